// Budgets: before every provider call, what the run (and the phase) has spent plus the calls in
// flight plus this call's worst case (prompt estimate + max_tokens at the model's price) must
// stay within the limits; otherwise the call is not made.
#include "run/services.hpp"

#include <ep/engine/routing/cost.hpp>

namespace ep::engine::detail {

namespace {

std::string usd(double v)
{
    return cost_text(v);
}

// A cost limit cannot be kept with a call whose cost is unknown: such a call is refused (the
// limit fails closed) with what to do about it. Token limits do not need a price.
std::optional<std::string> unpriced_refusal(const run_state& rs, const phase_spec& phase, const candidate& c,
                                            const std::string& tokens)
{
    std::string limit;
    if (rs.max_cost_usd)
        limit = "the run's " + usd(*rs.max_cost_usd) + " budget";
    else if (phase.budget && phase.budget->max_cost_usd)
        limit = "the " + usd(*phase.budget->max_cost_usd) + " budget of phase '" + phase.id + "'";
    else
        return std::nullopt;
    return "budget_exceeded: " + c.provider_name() + "/" + c.model + " has no price in the catalogue, so " +
           limit + " cannot be kept (this call: " + tokens +
           "); give the model a price (price: {input: 0, output: 0} for a free local model) or drop the cost limit";
}

}  // namespace

std::optional<std::string> check_budget(run_state& rs, const phase_spec& phase, double phase_spent,
                                        const candidate& c, const providers::chat_request& req,
                                        std::pair<double, std::int64_t>& reserved)
{
    const std::int64_t prompt = estimate_prompt_tokens(req);
    const std::int64_t max_out = req.max_tokens ? *req.max_tokens : c.info.max_output_tokens;
    const std::string tokens =
        std::to_string(prompt) + " prompt tokens + " + std::to_string(max_out) + " output tokens";
    const bool priced = c.info.input_price_per_mtok && c.info.output_price_per_mtok;
    if (!priced)
        if (auto refused = unpriced_refusal(rs, phase, c, tokens))
            return refused;
    const double worst = priced ? (static_cast<double>(prompt) * *c.info.input_price_per_mtok +
                                   static_cast<double>(max_out) * *c.info.output_price_per_mtok) / 1e6
                                : 0.0;
    const std::int64_t worst_tokens = prompt + max_out;
    const std::string call = "this call to " + c.provider_name() + "/" + c.model + " could cost up to " +
                             (priced ? usd(worst) : std::string("an unknown amount (no price in the catalogue)")) +
                             " (" + tokens + ")";
    const double run_spent = rs.spent_cost + rs.reserved_cost;
    if (rs.max_cost_usd && run_spent + worst > *rs.max_cost_usd)
        return "budget_exceeded: the run has spent " + usd(run_spent) + " of its " + usd(*rs.max_cost_usd) +
               " budget; " + call + " (raise it with --max-cost)";
    if (rs.max_tokens && rs.spent_tokens + rs.reserved_tokens + worst_tokens > *rs.max_tokens)
        return "budget_exceeded: the run has used " + std::to_string(rs.spent_tokens + rs.reserved_tokens) +
               " of its " + std::to_string(*rs.max_tokens) + " tokens; " + call;
    if (phase.budget && phase.budget->max_cost_usd && phase_spent + worst > *phase.budget->max_cost_usd)
        return "budget_exceeded: phase '" + phase.id + "' has spent " + usd(phase_spent) + " of its " +
               usd(*phase.budget->max_cost_usd) + " budget; " + call;
    if (phase.budget && phase.budget->max_tokens && worst_tokens > *phase.budget->max_tokens)
        return "budget_exceeded: phase '" + phase.id + "' may use " + std::to_string(*phase.budget->max_tokens) +
               " tokens; " + call;
    reserved.first += worst;
    reserved.second += worst_tokens;
    rs.reserved_cost += worst;
    rs.reserved_tokens += worst_tokens;
    return std::nullopt;
}

void release_budget(run_state& rs, std::pair<double, std::int64_t>& reserved)
{
    rs.reserved_cost -= reserved.first;
    rs.reserved_tokens -= reserved.second;
    reserved = {};
}

}  // namespace ep::engine::detail
