#pragma once
// failover_decisions: the pure half of call_with_failover. It decides which candidates are
// passed over, numbers attempts, and turns each failure into a plan (retry the same candidate,
// fall back, stop), remembering what a failure rules out for the candidates after it. No I/O,
// no clock, no circuit state: the driver (failover_executor.cpp) feeds it what happened.

#include <ep/engine/routing/failover.hpp>

#include <optional>
#include <set>
#include <string>

namespace ep::engine::detail {

class failover_decisions
{
public:
    failover_decisions(const retry_policy& policy, content_filter_action on_content_filter, int first_attempt_number)
        : policy_(policy), on_content_filter_(on_content_filter), next_number_(first_attempt_number)
    {
    }

    const retry_policy& policy() const noexcept { return policy_; }

    /// Whether the phase's attempt budget allows another attempt.
    bool budget_left() const noexcept { return made_ < policy_.max_attempts_per_phase; }

    /// Why `c` is passed over without a call (an earlier failure rules it out), or nullopt.
    std::optional<std::string> skip_reason(const candidate& c) const;

    /// Numbers the attempt that starts now (counted against the budget).
    int start_attempt() noexcept
    {
        ++made_;
        return next_number_++;
    }

    /// The plan after `rec` failed on `c`, its `attempts_on_candidate`-th attempt there. Records
    /// what the failure rules out for later candidates. `u01` is the jitter draw.
    failure_plan after_failure(const candidate& c, const attempt_record& rec, int attempts_on_candidate,
                               bool later_candidates_exist, double u01);

    /// The circuit of the candidate opened with this failure: a planned retry becomes a fallback.
    static void circuit_opened(failure_plan& plan, const candidate& c);

    /// A retry whose wait would reach the phase deadline is not made: the next candidate is
    /// tried at once, or the call stops when there is none.
    static void deadline_too_close(failure_plan& plan, bool later_candidates_exist);

    /// A same-model retry after a stalled or cut stream (S09) is made only when the time left
    /// before the phase deadline covers its wait, a retry that stalls as long again and as long
    /// once more for the next candidate; otherwise the next candidate is tried at once. Other
    /// plans and failures are left as they are.
    static void stall_retry_must_fit(failure_plan& plan, const attempt_record& rec,
                                     std::chrono::steady_clock::duration remaining, bool later_candidates_exist);

private:
    const retry_policy& policy_;
    content_filter_action on_content_filter_;
    int next_number_;
    int made_ = 0;
    std::optional<std::int64_t> min_context_;  // later candidates need a larger window than this
    std::set<std::string> dead_providers_;      // auth failures and the like
    std::set<std::string> refused_models_;      // invalid request or content filter
};

}  // namespace ep::engine::detail
