#pragma once
// circuit_breaker per (provider, model) and the process-wide circuit_registry.
//
// closed ──(N consecutive failures, or failure rate ≥ R over the window)──► open
// open ──(cooldown elapsed; the next allow() takes the single probe)──► half_open
// half_open ──probe succeeds──► closed      half_open ──probe fails──► open (cooldown restarts)

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace ep::engine {

struct circuit_breaker_config
{
    int consecutive_failures_to_open = 5;
    double failure_rate_to_open = 0.5;      // over `window`, once `min_calls_in_window` outcomes exist
    int min_calls_in_window = 10;
    std::chrono::milliseconds window{60000};
    std::chrono::milliseconds cooldown{30000};  // open → half_open
};

enum class circuit_state { closed, open, half_open };
const char* to_string(circuit_state s) noexcept;

/// @par Thread safety
/// All members are thread-safe (one mutex per breaker), so a breaker may be shared by phases
/// running on different threads. The clock is called under the lock.
class circuit_breaker
{
public:
    using clock = std::chrono::steady_clock;
    using now_fn = std::function<clock::time_point()>;

    explicit circuit_breaker(circuit_breaker_config cfg = {}, now_fn now = [] { return clock::now(); });

    /// May a call be made now? Closed: yes. Open: no, until the cooldown has elapsed, then the
    /// breaker turns half-open and this call takes the single probe (yes). Half-open with the
    /// probe taken: no. A caller that got `true` must report the outcome with record_success,
    /// record_failure or release (a neutral outcome such as a cancel or a refused request).
    bool allow();

    void record_success();
    void record_failure();
    /// Ends a call without judging the provider's health (user cancel, a request the model
    /// refused). Frees the half-open probe so that another call can probe.
    void release();

    circuit_state state() const;
    /// State as the next allow() would see it, without taking the probe.
    bool is_open() const;

private:
    void open_locked(clock::time_point now);
    void trim_locked(clock::time_point now);

    mutable std::mutex mutex_;
    circuit_breaker_config cfg_;
    now_fn now_;
    circuit_state state_ = circuit_state::closed;
    int consecutive_failures_ = 0;
    bool probe_in_flight_ = false;
    clock::time_point opened_at_{};
    std::deque<std::pair<clock::time_point, bool>> outcomes_;  // (when, failed) inside the window
};

/// One breaker per (provider name, model id), created on first use and kept for the life of
/// the registry; share one registry across every phase and run of a process.
///
/// @par Thread safety
/// Thread-safe. Returned breakers stay valid while the registry lives.
class circuit_registry
{
public:
    explicit circuit_registry(circuit_breaker_config cfg = {},
                              circuit_breaker::now_fn now = [] { return circuit_breaker::clock::now(); });

    std::shared_ptr<circuit_breaker> get(const std::string& provider, const std::string& model);
    /// Read-only lookup: nullptr when no call was ever made to (provider, model).
    std::shared_ptr<circuit_breaker> find(const std::string& provider, const std::string& model) const;

private:
    mutable std::mutex mutex_;
    circuit_breaker_config cfg_;
    circuit_breaker::now_fn now_;
    std::map<std::pair<std::string, std::string>, std::shared_ptr<circuit_breaker>> breakers_;
};

}  // namespace ep::engine
