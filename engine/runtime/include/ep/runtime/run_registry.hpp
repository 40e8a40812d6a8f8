#pragma once
// run_registry: the runs a long-lived front end (ep-serve) has in flight in this process. It
// starts and resumes runs in the background through the runtime, gives each run session an
// event_hub (live events for SSE subscribers), a run_control (cancel) and the observers every
// run reports to (metrics, tracing), and forgets the run when it ends. ep-run needs none of
// this: it runs one workflow in the foreground.

#include <ep/runtime/event_hub.hpp>
#include <ep/runtime/runtime.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ep::runtime {

/// @par Thread safety
/// Strand-confined, like the runtime: everything on the runtime's io_context thread. The
/// runtime must outlive the registry, and the registry must outlive its runs: call stop_all()
/// and await it before destroying it.
class run_registry
{
public:
    explicit run_registry(runtime& rt, std::size_t subscriber_queue_capacity = 8192);
    ~run_registry();
    run_registry(const run_registry&) = delete;
    run_registry& operator=(const run_registry&) = delete;

    /// Every event of every run started here is also given to `sink` (not owned; it must
    /// outlive the registry). Add observers before starting runs.
    void add_observer(engine::event_sink& sink);

    /// Starts `workflow` as a new run in the background. Completes as soon as the run exists
    /// in the store (its run_started event), with its id; or with the runtime's error when it
    /// could not start (unroutable, invalid_provider, store_unusable, store_failed).
    asio::awaitable<result<std::string>> start(std::shared_ptr<const prepared_workflow> workflow, run_options options);

    /// Resumes a stored run in the background. Completes when the resumed session started, or
    /// with runtime::resume's error (unknown_run, already_completed, lease_held, …); a run
    /// already in flight here is lease_held.
    asio::awaitable<result<std::string>> resume(std::string run_id, run_options options);

    /// Records a decision on a waiting approval gate and continues the run in the background
    /// (runtime::approve). Completes when the continued session started, or with approve's
    /// error (not_waiting, unknown_phase, unknown_run, …); a run in flight here is lease_held.
    asio::awaitable<result<std::string>> approve(std::string run_id, engine::approval_decision decision,
                                                 run_options options);

    /// Starts a fork of `run_id` in the background (runtime::fork). Completes with the new
    /// run's id once it exists, or with fork's error (unknown_phase, invalid_input, …).
    asio::awaitable<result<std::string>> fork(std::string run_id, fork_options fork, run_options options);

    /// Resumes every run whose lease this runtime's owner identity holds and that the store
    /// still shows as running or pending: the runs of a previous process with the same
    /// identity that ended without recording how (a restart). Returns the ids resumed; runs
    /// that cannot be resumed are logged and left alone.
    asio::awaitable<std::vector<std::string>> resume_owned();

    /// Asks a run in flight here to stop (its phases are recorded cancelled, the run ends
    /// interrupted). False when the run is not in flight in this process.
    bool request_stop(const std::string& run_id);

    /// The live events of a run in flight here; null otherwise.
    std::shared_ptr<event_hub> hub(const std::string& run_id) const;
    bool in_flight(const std::string& run_id) const { return hub(run_id) != nullptr; }
    /// Runs in flight here.
    std::size_t size() const noexcept { return runs_.size(); }
    /// SSE-style subscribers over every hub.
    std::size_t subscribers() const;

    /// Stops every run in flight and waits until each has recorded how it ended, at most
    /// `grace`; runs still going then are left to their leases (a later resume continues them).
    asio::awaitable<void> stop_all(std::chrono::milliseconds grace);
    /// Waits until no run is in flight (tests, benchmarks).
    asio::awaitable<void> wait_idle();

    struct live_run;

private:
    asio::awaitable<result<std::string>> launch(std::shared_ptr<live_run> run);
    /// A session whose run id is known before it starts (resume, approve): findable at once.
    asio::awaitable<result<std::string>> continue_known(std::shared_ptr<live_run> run);

    runtime& rt_;
    std::size_t queue_capacity_;
    std::vector<engine::event_sink*> observers_;
    std::map<std::string, std::shared_ptr<live_run>> runs_;
    std::vector<std::shared_ptr<live_run>> starting_;  // new runs before their id is known
    std::vector<asio::steady_timer*> idle_waiters_;    // wait_idle/stop_all: woken as runs end
};

}  // namespace ep::runtime
