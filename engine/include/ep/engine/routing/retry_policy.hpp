#pragma once
// retry_policy and plan_after_failure: the pure (sans-I/O) decision of what to do after one
// failed provider attempt: retry the same candidate after a delay, move to the next candidate,
// or stop the phase. The failover executor does the waiting; this file only decides.

#include <ep/providers/error.hpp>

#include <chrono>
#include <string>

namespace ep::engine {

/// Bounds and timing of retries. Defaults follow PROVIDERS.md §6.4/§6.5.
struct retry_policy
{
    int max_attempts_per_candidate = 3;  // tries of one (provider, model), first try included
    int max_attempts_per_phase = 8;      // tries over all candidates of one phase
    std::chrono::milliseconds base_delay{500};
    std::chrono::milliseconds max_delay{8000};
    double multiplier = 2.0;  // each retry's ceiling is the previous one times this
    /// Retry-After is honoured up to this; a longer wait falls back to the next candidate
    /// instead of sleeping.
    std::chrono::milliseconds retry_after_cap{30000};
    /// Floor of every wait before retrying the same candidate, so a provider that keeps
    /// answering 429 at once sees at most 1000/min_spacing attempts per second.
    std::chrono::milliseconds min_spacing{250};

    /// min(max_delay, base_delay·multiplier^retries_done); retries_done counts retries already
    /// made on this candidate (0 before the first retry). Saturates instead of overflowing.
    std::chrono::milliseconds backoff_ceiling(int retries_done) const noexcept;

    /// Full-jitter backoff: `u01` (uniform in [0, 1)) scaled onto [0, ceiling], then raised to
    /// min_spacing. Out-of-range `u01` is clamped.
    std::chrono::milliseconds backoff(int retries_done, double u01) const noexcept;
};

enum class failure_action
{
    retry_same,      // wait `delay`, then call the same candidate again
    next_candidate,  // give up on this candidate for this phase
    stop,            // give up on the phase
};

const char* to_string(failure_action a) noexcept;

struct failure_plan
{
    failure_action action = failure_action::stop;
    std::chrono::milliseconds delay{0};  // only for retry_same
    bool needs_larger_context = false;   // later candidates must have a larger context window
    bool skip_provider = false;          // the provider itself is unusable (auth, missing CLI…)
    bool skip_model = false;             // this model refused the request: never send it again
    bool counts_against_circuit = false; // a sign of provider ill health, not of a bad request
    std::string reason;                  // why, for logs and attempt records
};

/// What to do after attempt number `attempts_in_phase` (the `attempts_on_candidate`-th on this
/// candidate) failed with `ec`/`diag`. `later_candidates_exist` lets timeouts fall over rather
/// than retry; `u01` is the jitter draw. The caller handles user cancellation before asking.
failure_plan plan_after_failure(const retry_policy& policy, boost::system::error_code ec,
                                const providers::diagnostics& diag, int attempts_on_candidate,
                                int attempts_in_phase, bool later_candidates_exist, double u01);

}  // namespace ep::engine
