// Budgets: before every provider call, what the run (and the phase) has spent plus the calls in
// flight plus this call's worst case (prompt estimate + max_tokens at the model's price) must
// stay within the limits; otherwise the call is not made.
#include "run/services.hpp"

#include <cstdio>

namespace ep::engine::detail {

namespace {

std::string usd(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.4f", v);
    return buf;
}

}  // namespace

std::optional<std::string> check_budget(run_state& rs, const phase_spec& phase, double phase_spent,
                                        const candidate& c, const providers::chat_request& req,
                                        std::pair<double, std::int64_t>& reserved)
{
    const std::int64_t prompt = estimate_prompt_tokens(req);
    const std::int64_t max_out = req.max_tokens ? *req.max_tokens : c.info.max_output_tokens;
    const bool priced = c.info.input_price_per_mtok && c.info.output_price_per_mtok;
    const double worst = priced ? (static_cast<double>(prompt) * *c.info.input_price_per_mtok +
                                   static_cast<double>(max_out) * *c.info.output_price_per_mtok) / 1e6
                                : 0.0;
    const std::int64_t worst_tokens = prompt + max_out;
    const std::string call = "this call to " + c.provider_name() + "/" + c.model + " could cost up to " +
                             (priced ? usd(worst) : std::string("an unknown amount (no price in the catalogue; counted as $0)")) +
                             " (" + std::to_string(prompt) + " prompt tokens + " + std::to_string(max_out) +
                             " output tokens)";
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
