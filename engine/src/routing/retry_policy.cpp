#include <ep/engine/routing/retry_policy.hpp>

#include <algorithm>
#include <cmath>

namespace ep::engine {

using std::chrono::milliseconds;
using providers::provider_errc;

milliseconds retry_policy::backoff_ceiling(int retries_done) const noexcept
{
    const double cap = static_cast<double>(std::max<std::int64_t>(0, max_delay.count()));
    const double factor = multiplier >= 1.0 ? multiplier : 1.0;
    double value = static_cast<double>(std::max<std::int64_t>(0, base_delay.count()));
    for (int i = 0; i < retries_done && value < cap; ++i)
        value *= factor;  // stops growing at the cap, so it cannot overflow
    return milliseconds{static_cast<std::int64_t>(std::min(value, cap))};
}

milliseconds retry_policy::backoff(int retries_done, double u01) const noexcept
{
    if (!(u01 >= 0.0))  // also catches NaN
        u01 = 0.0;
    if (u01 > 1.0)
        u01 = 1.0;
    const auto ceiling = backoff_ceiling(retries_done);
    const auto jittered = milliseconds{static_cast<std::int64_t>(std::floor(u01 * double(ceiling.count())))};
    return std::max(jittered, min_spacing);
}

const char* to_string(failure_action a) noexcept
{
    switch (a)
    {
    case failure_action::retry_same: return "retry";
    case failure_action::next_candidate: return "fall back";
    case failure_action::stop: return "stop";
    }
    return "stop";
}

namespace {

bool is(boost::system::error_code ec, provider_errc e) noexcept { return ec == make_error_code(e); }

}  // namespace

failure_plan plan_after_failure(const retry_policy& policy, boost::system::error_code ec,
                                const providers::diagnostics& diag, int attempts_on_candidate,
                                int attempts_in_phase, bool later_candidates_exist, double u01)
{
    failure_plan plan;
    const bool phase_budget_left = attempts_in_phase < policy.max_attempts_per_phase;
    auto move_on = [&](std::string why) {
        plan.action = phase_budget_left ? failure_action::next_candidate : failure_action::stop;
        plan.reason = phase_budget_left ? std::move(why)
                                        : why + "; the phase's " + std::to_string(policy.max_attempts_per_phase) +
                                              " attempts are used up";
        return plan;
    };

    if (is(ec, provider_errc::context_length_exceeded))
    {
        plan.needs_larger_context = true;
        return move_on("the prompt does not fit this model's context window");
    }
    if (is(ec, provider_errc::auth_failed) || is(ec, provider_errc::unavailable) ||
        is(ec, provider_errc::cli_missing) || is(ec, provider_errc::tls_failed))
    {
        plan.skip_provider = true;
        plan.counts_against_circuit = true;
        return move_on("the provider cannot serve any request (" + ec.message() + ")");
    }
    if (is(ec, provider_errc::invalid_request) || is(ec, provider_errc::content_filter))
    {
        // A refusal is about the request, not the provider's health: never retried on this model.
        plan.skip_model = true;
        return move_on("not retried on the same model (" + ec.message() + ")");
    }
    if (!providers::is_retryable(ec))
    {
        if (!providers::should_fall_back(ec))
        {
            plan.action = failure_action::stop;
            plan.reason = "not retryable and no other candidate can help (" + ec.message() + ")";
            return plan;
        }
        plan.counts_against_circuit = true;
        return move_on("not retryable (" + ec.message() + ")");
    }

    plan.counts_against_circuit = true;
    if (diag.should_retry == false)
        return move_on("the provider said not to retry (x-should-retry: false)");
    if (attempts_on_candidate >= policy.max_attempts_per_candidate)
        return move_on(std::to_string(attempts_on_candidate) + " attempts on this candidate");
    if (!phase_budget_left)
        return move_on("retryable");
    if (later_candidates_exist && (is(ec, provider_errc::first_byte_timeout) || is(ec, provider_errc::first_token_timeout) ||
                                   is(ec, provider_errc::connect_timeout)))
        return move_on("a silent provider falls over to the next candidate");
    // A stream that stalled or was cut mid-answer gets one more try on the same model; a second
    // stall would cost another whole idle window, so the next candidate is tried instead.
    if (later_candidates_exist && attempts_on_candidate >= 2 &&
        (is(ec, provider_errc::idle_timeout) || is(ec, provider_errc::stream_truncated)))
        return move_on("the stream stalled or was cut again on this candidate");
    if (diag.retry_after)
    {
        if (*diag.retry_after > policy.retry_after_cap)
            return move_on("Retry-After " + std::to_string(diag.retry_after->count()) + " ms exceeds the cap of " +
                           std::to_string(policy.retry_after_cap.count()) + " ms");
        plan.action = failure_action::retry_same;
        plan.delay = std::max(*diag.retry_after, policy.min_spacing);
        plan.reason = "Retry-After honoured";
        return plan;
    }
    plan.action = failure_action::retry_same;
    plan.delay = policy.backoff(attempts_on_candidate - 1, u01);
    plan.reason = "backoff";
    return plan;
}

}  // namespace ep::engine
