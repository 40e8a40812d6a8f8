#pragma once
// failover_executor: one phase's provider call with retries, fallback over an ordered list of
// candidates, circuit breakers and per-provider limits. It never reports a failed, truncated
// or cancelled attempt as a completion.

#include <ep/engine/routing/circuit_breaker.hpp>
#include <ep/engine/routing/cost.hpp>
#include <ep/engine/routing/rate_limiter.hpp>
#include <ep/engine/routing/retry_policy.hpp>
#include <ep/engine/routing/time_source.hpp>

#include <ep/engine/workflow.hpp>  // content_filter_action
#include <ep/providers/provider.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace ep::engine {

/// One (provider, model) the router chose, in preference order. `target` is not owned and must
/// outlive the call.
struct candidate
{
    providers::provider* target = nullptr;
    std::string model;            // sent as chat_request::model
    providers::model_info info;   // context window and prices of `model`
    std::optional<double> cached_input_price_per_mtok;

    const std::string& provider_name() const { return target->config().name; }
};

/// One call to one candidate, successful or not.
struct attempt_record
{
    int number = 0;  // 1-based within the phase
    std::string provider;
    std::string model;
    boost::system::error_code ec;  // empty for the successful attempt
    providers::diagnostics diag;
    std::optional<int> status;     // HTTP status (or in-stream code), when there was one
    std::chrono::milliseconds latency{0};
    std::chrono::sys_time<std::chrono::milliseconds> started{};  // wall clock, for the store
    std::optional<std::chrono::milliseconds> retry_in;  // set when the same candidate is retried
    std::size_t discarded_chars = 0;  // partial output thrown away (mid-stream failure)
    std::string decision;             // "retry" | "fall back" | "stop" | "completed" | "cancelled"
    std::string reason;               // why the decision was taken

    bool ok() const noexcept { return !ec; }
    /// One line: error, provider reason, decision. Safe for logs and events (no secrets).
    std::string describe() const;
};

/// A candidate passed over without calling it.
struct skip_record
{
    std::string provider;
    std::string model;
    std::string reason;
};

struct phase_call_result
{
    boost::system::error_code ec;  // empty on success; operation_aborted when cancelled
    providers::diagnostics diag;   // of the last failure
    // Only on success; all empty/zero on failure.
    providers::chat_response response;
    std::string provider;
    std::string model;
    providers::usage usage;
    std::optional<double> cost_usd;  // nullopt: the model has no price (see cost.hpp)

    std::vector<attempt_record> attempts;  // every attempt, the successful one last
    std::vector<skip_record> skipped;

    bool ok() const noexcept { return !ec; }
};

/// Hooks to report progress (for the `--json` events and the console). All are optional and
/// called on the awaiting coroutine's executor; they must not throw.
struct failover_callbacks
{
    /// An attempt starts (`phase_started {attempt, provider, model}`).
    std::function<void(int attempt, const std::string& provider, const std::string& model)> on_attempt_started;
    /// A live event of the current attempt (text deltas, tool-call deltas, usage, finish). Events
    /// of an attempt that later fails were provisional: on_discard says so.
    std::function<void(const providers::stream_event&)> on_event;
    /// An attempt failed after streaming output; that output must be thrown away.
    std::function<void(const attempt_record&, const std::string& reason)> on_discard;
    /// An attempt failed (`attempt_failed {attempt, provider, model, error, status?, retry_in_ms?}`).
    std::function<void(const attempt_record&)> on_attempt_failed;
    /// A candidate was passed over without a call.
    std::function<void(const skip_record&)> on_skip;
    /// Asked before each call: a reason not to make it (a budget it could exceed) stops the
    /// whole call with workflow_errc::budget_exceeded and that reason; nothing is sent.
    std::function<std::optional<std::string>(const candidate&, const providers::chat_request&)> before_call;
};

/// An empty set of callbacks with static storage, for callers with none: call_with_failover keeps
/// its callbacks by reference for as long as it runs (a temporary would die first).
const failover_callbacks& no_failover_callbacks() noexcept;

struct failover_options
{
    retry_policy retry;
    /// Shared across phases and runs; one is created when null.
    std::shared_ptr<circuit_registry> circuits;
    /// Per-provider concurrency and rate limits; none when null.
    std::shared_ptr<provider_limits> limits;
    /// Defaults to make_steady_time_source().
    std::shared_ptr<time_source> time;
    /// Uniform [0, 1) draws for the jitter; defaults to a seeded mt19937_64.
    std::function<double()> random;
    /// Defaults to ep::default_logger() (stderr, level from EP_LOG_LEVEL).
    std::shared_ptr<spdlog::logger> logger;
};

/// Per-call settings: what differs from phase to phase.
struct failover_call_options
{
    /// The phase's `retry:`; nullopt: the executor's default (failover_options::retry).
    std::optional<retry_policy> retry;
    /// The phase deadline (its `timeout`), in real time even when the time_source is virtual:
    /// it is what the user waits. A call still running then is cancelled and recorded as failed
    /// with routing_errc::deadline_exceeded, which is also the result; a retry whose backoff
    /// would reach it is not made. nullopt: no deadline.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    /// Number of the first attempt of this call (a JSON repair call continues the phase's count).
    int first_attempt_number = 1;
    content_filter_action on_content_filter = content_filter_action::fail;
};

/// Estimated prompt tokens of a request (about 4 characters per token), for the token bucket.
std::int64_t estimate_prompt_tokens(const providers::chat_request& req);

/// @par Thread safety
/// Strand-confined, as its limits are: run every call of one executor on one strand. The
/// circuit registry it shares is thread-safe.
class failover_executor
{
public:
    explicit failover_executor(failover_options opts = {});

    /// Calls `candidates` in order with `base` (its model replaced by the candidate's) until one
    /// completes.
    ///
    /// Per candidate: skipped when its circuit is open, when an earlier candidate overflowed a
    /// context window at least as large, or when an earlier refusal rules it out (auth failure of
    /// the same provider; invalid request or content filter of the same model). Retryable failures
    /// are retried on the same candidate with full-jitter backoff (Retry-After honoured up to the
    /// cap, above it the next candidate is used), within the per-candidate and per-phase bounds
    /// of `call.retry`, and never past `call.deadline`. A stalled or cut stream is retried on the
    /// same candidate at most once before the next one is tried. A content-filter refusal fails
    /// the call unless `call.on_content_filter` is fallback. A failure after streamed output
    /// discards that output (on_discard) and restarts the call. The decisions themselves are
    /// made by the pure failover_decisions (failover_decisions.hpp); this is the driver.
    ///
    /// @returns success with the response, the provider/model/usage that produced it and its
    /// cost; or the last failure (routing_errc when nothing was called) with every attempt.
    ///
    /// @par Per-operation cancellation
    /// Terminal cancellation is honoured at any point (a limit wait, a backoff sleep, mid-stream):
    /// the provider call is cancelled and the result is asio::error::operation_aborted, never a
    /// provider failure, and the circuit is not charged. Does not throw for a cancellation.
    ///
    /// @par Lifetimes
    /// `candidates` and `callbacks` are used by reference until the awaitable completes: the
    /// caller keeps them alive that long (a temporary in a co_spawn call does not live that long).
    asio::awaitable<phase_call_result> call_with_failover(const std::vector<candidate>& candidates,
                                                          providers::chat_request base,
                                                          const failover_callbacks& callbacks,
                                                          failover_call_options call);

    const std::shared_ptr<circuit_registry>& circuits() const noexcept { return opts_.circuits; }
    const failover_options& options() const noexcept { return opts_; }

private:
    failover_options opts_;
};

}  // namespace ep::engine
