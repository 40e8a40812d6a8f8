#pragma once
// async_store: the run store for event-loop code. Every call hops to one dedicated writer
// thread, runs the blocking store method there, and resumes the caller on its own executor,
// so the io_context never waits on disk (STYLE.md §9).

#include <ep/persistence/store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace ep::persistence {

/// Ownership and lifetime:
///  - Shares ownership of the backend `store`.
///  - Destroying the async_store waits for every queued call to finish (writes are never
///    dropped); their completions are posted to the callers' executors, which must still exist.
///    Destroy the async_store before the io_context its callers run on.
///
/// Ordering: calls run one at a time, in the order they were issued (FIFO on one thread), so a
/// coroutine that awaits commit_phase and then starts dependents sees the checkpoint committed.
///
/// Group commit: calls that queue up while the writer is busy run together in one backend
/// batch (store::begin_batch), each still atomic on its own; their results are delivered only
/// after the batch is committed, and if that commit fails every call of the batch gets the
/// error. Under load many checkpoints then share one transaction; alone, a call is its own.
///
/// Per-operation cancellation: none. Once a call is issued it runs to completion on the writer
/// thread and its result is delivered; a cancellation signal on the awaiting coroutine is not
/// observed (a checkpoint is never half-abandoned). Cancel before issuing, not during.
///
/// Errors: exactly those of the `store` method of the same name; an exception escaping the
/// backend (a bug, or std::bad_alloc) is returned as persistence_errc::io_error.
///
/// Thread safety: the awaitable methods may be called from any executor/thread. sync() gives
/// blocking access on the calling thread; that is safe concurrently with queued calls only if
/// the backend is thread-safe (sqlite_store is).
class async_store
{
public:
    explicit async_store(std::shared_ptr<store> backend);
    ~async_store();
    async_store(const async_store&) = delete;
    async_store& operator=(const async_store&) = delete;

    /// The backend for synchronous use (CLI `--list` / `--show`, tests); needs no io_context.
    store& sync() noexcept { return *backend_; }

    boost::asio::awaitable<result<run_record>> create_run(run_record run);
    boost::asio::awaitable<result<run_record>> get_run(std::string run_id);
    boost::asio::awaitable<result<std::vector<run_record>>> list_runs(run_filter filter);
    boost::asio::awaitable<result<std::vector<run_record>>> list_runs(std::size_t limit);
    boost::asio::awaitable<result<void>> set_run_status(std::string run_id, run_status status,
                                                        std::string error = {});
    boost::asio::awaitable<result<void>> set_run_mix(std::string run_id, std::string mix);
    boost::asio::awaitable<result<void>> set_run_options(std::string run_id, nlohmann::json options);

    boost::asio::awaitable<result<run_record>> acquire_lease(std::string run_id, std::string owner,
                                                             std::chrono::milliseconds ttl);
    boost::asio::awaitable<result<void>> renew_lease(std::string run_id, std::string owner);
    boost::asio::awaitable<result<void>> release_lease(std::string run_id, std::string owner);

    boost::asio::awaitable<result<void>> begin_phase(std::string run_id, std::string phase_id,
                                                     int iteration = 1,
                                                     std::optional<int> item = std::nullopt);
    boost::asio::awaitable<result<void>> record_attempt(attempt_record attempt);
    boost::asio::awaitable<result<std::int64_t>> commit_phase(phase_record phase,
                                                              std::vector<event_record> events,
                                                              std::vector<attempt_record> attempts = {});
    boost::asio::awaitable<result<std::int64_t>> append_events(std::string run_id,
                                                               std::vector<event_record> events);
    boost::asio::awaitable<result<std::vector<phase_record>>> get_phases(std::string run_id);
    boost::asio::awaitable<result<phase_record>> get_phase(std::string run_id, std::string phase_id,
                                                           int iteration = 1,
                                                           std::optional<int> item = std::nullopt);
    boost::asio::awaitable<result<void>> copy_phases(std::string from_run, std::string to_run,
                                                     std::vector<std::string> phase_ids);
    boost::asio::awaitable<result<std::vector<attempt_record>>>
    get_attempts(std::string run_id, std::optional<std::string> phase_id = std::nullopt);
    boost::asio::awaitable<result<std::vector<event_record>>>
    get_events(std::string run_id, std::int64_t after_seq = 0, std::size_t limit = SIZE_MAX);
    boost::asio::awaitable<result<void>> integrity_check();

    /// Most calls one batch holds (bounds the latency a large queue adds to its first call).
    static constexpr std::size_t max_batch = 256;
    /// The longest the writer waits for the next call, yielding, before it goes to sleep. Many
    /// runs side by side hand it a checkpoint every 100 µs or so, and waking a sleeping thread
    /// costs about as much as the commit itself on a VM. The wait adapts (see linger_for_work):
    /// halved after each wait that caught nothing, down to writer_linger_floor, doubled after
    /// each that caught a call, so a lone chain (one checkpoint per phase, then a network call)
    /// wastes a few µs per phase instead of the whole wait.
    static constexpr std::chrono::microseconds writer_linger{250};
    static constexpr std::chrono::microseconds writer_linger_floor{8};

    /// Calls queued or running whose result has not yet been handed back to the caller's
    /// executor. Readable from any thread; an event loop lingers only while this is non-zero
    /// (engine::run_event_loop), since nothing else is about to wake it.
    std::size_t calls_in_flight() const noexcept { return in_flight_.load(std::memory_order_acquire); }

private:
    /// A queued call: run() on the writer thread, then finish() delivers its result (or the
    /// batch's commit error) to the caller's executor.
    struct queued_call
    {
        virtual ~queued_call() = default;
        virtual void run() noexcept = 0;
        /// Hands the result (and the call itself) back to the caller's executor.
        virtual void finish(std::unique_ptr<queued_call> self, const store_error* batch_error) = 0;
    };
    template <class R, class F, class Handler, class Work>
    struct call_of;

    // Queues fn() for the writer thread; completes on the awaiting coroutine's executor.
    template <class R, class F>
    boost::asio::awaitable<R> on_writer(F fn);
    void enqueue(std::unique_ptr<queued_call> call);
    void drain();  // writer thread: runs queued calls, batch by batch, until the queue is empty
    bool linger_for_work() noexcept;  // writer thread: true when a call arrived within linger_

    std::shared_ptr<store> backend_;
    std::mutex queue_mutex_;
    std::vector<std::unique_ptr<queued_call>> queue_;
    std::atomic<std::size_t> queued_{0};     // queue_.size(), readable without the mutex
    std::atomic<std::size_t> in_flight_{0};  // see calls_in_flight()
    bool drain_scheduled_ = false;
    std::chrono::microseconds linger_ = writer_linger;  // writer thread only: the current adaptive wait
    boost::asio::thread_pool writer_{1};  // last: joined first on destruction
};

}  // namespace ep::persistence
