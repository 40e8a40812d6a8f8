#include "routing/failover_decisions.hpp"

namespace ep::engine::detail {

std::optional<std::string> failover_decisions::skip_reason(const candidate& c) const
{
    if (min_context_ && c.info.context_window <= *min_context_)
        return "context window " + std::to_string(c.info.context_window) + " is not larger than " +
               std::to_string(*min_context_);
    if (dead_providers_.count(c.provider_name()))
        return "provider failed authentication or is unusable";
    if (refused_models_.count(c.model))
        return "model refused the request";
    return std::nullopt;
}

failure_plan failover_decisions::after_failure(const candidate& c, const attempt_record& rec,
                                               int attempts_on_candidate, bool later_candidates_exist, double u01)
{
    // made_ already counts this attempt, as plan_after_failure expects.
    failure_plan plan = plan_after_failure(policy_, rec.ec, rec.diag, attempts_on_candidate, made_,
                                           later_candidates_exist, u01);
    if (rec.ec == providers::provider_errc::content_filter && on_content_filter_ == content_filter_action::fail)
    {
        // A refusal is an answer about the content: reported as such, never routed around
        // unless the workflow asked for it.
        plan.action = failure_action::stop;
        plan.reason = "refused by the provider's content filter (on_content_filter: fail)";
    }
    else if (rec.ec == providers::provider_errc::content_filter)
        plan.reason = "refused by the provider's content filter; routed around (on_content_filter: fallback)";

    if (plan.needs_larger_context)
        min_context_ = std::max(min_context_.value_or(0), c.info.context_window);
    if (plan.skip_provider)
        dead_providers_.insert(c.provider_name());
    if (plan.skip_model)
        refused_models_.insert(c.model);
    return plan;
}

void failover_decisions::circuit_opened(failure_plan& plan, const candidate& c)
{
    if (plan.action != failure_action::retry_same)
        return;
    plan.action = failure_action::next_candidate;
    plan.delay = {};
    plan.reason = "the circuit of " + c.provider_name() + "/" + c.model + " opened";
}

void failover_decisions::deadline_too_close(failure_plan& plan, bool later_candidates_exist)
{
    plan.action = later_candidates_exist ? failure_action::next_candidate : failure_action::stop;
    plan.delay = {};
    plan.reason = "the phase's timeout would pass before the retry";
}

void failover_decisions::stall_retry_must_fit(failure_plan& plan, const attempt_record& rec,
                                              std::chrono::steady_clock::duration remaining,
                                              bool later_candidates_exist)
{
    const bool stalled = rec.ec == providers::provider_errc::idle_timeout ||
                         rec.ec == providers::provider_errc::stream_truncated;
    if (plan.action != failure_action::retry_same || !stalled || !later_candidates_exist)
        return;
    if (plan.delay + 2 * rec.latency < remaining)
        return;
    plan.action = failure_action::next_candidate;
    plan.delay = {};
    plan.reason = "the stream stalled; another stall on this model would leave the next candidate no time "
                  "before the phase's deadline";
}

}  // namespace ep::engine::detail
