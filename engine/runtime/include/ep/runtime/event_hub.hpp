#pragma once
// event_hub: the live events of one run session, fanned out to any number of subscribers (the
// server's SSE clients), each through its own bounded queue, so that a slow subscriber never
// blocks the run (STYLE.md §16): when its queue is full the subscriber is marked `overflowed`
// and stops receiving; it catches up from the store and a fresh subscription instead.
//
// It also keeps the *uncommitted tail*: the live events of the phase instances whose
// checkpoint is not in the store yet. The store's event log receives a phase's events only
// when the phase commits, so a subscriber arriving mid-phase needs the tail to miss nothing.
// Text deltas in the tail are coalesced per stretch, exactly as the store coalesces them, so
// the tail holds about as much as the phase's output.

#include <ep/engine/run/events.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ep::runtime {

namespace asio = boost::asio;

/// The checkpoint block an event belongs to: "^started" / "^completed" for run_started and
/// run_completed (each is a block of its own), else the phase id, followed by "@ITERATION"
/// and "#ITEM" when the event carries them (a loop iteration or a fan-out item).
std::string event_instance(std::string_view type, const nlohmann::json& fields);

/// True for the events that close their instance's block: phase_completed, phase_failed,
/// phase_skipped, run_started, run_completed. The executor emits a phase's closing event only
/// after its checkpoint committed.
bool closes_block(std::string_view type);

/// One subscriber's queue. Strand-confined (the hub's executor).
class event_subscription
{
public:
    explicit event_subscription(asio::any_io_executor ex, std::size_t capacity);

    /// Everything queued since the last call (oldest first).
    std::vector<engine::run_event> take();
    /// The queue overflowed: later events were dropped and none will come any more.
    bool overflowed() const noexcept { return overflowed_; }
    /// The run session ended (run_completed was queued, or the hub was closed).
    bool closed() const noexcept { return closed_; }
    bool ready() const noexcept { return !queue_.empty() || overflowed_ || closed_; }

    /// Waits until ready() or `timeout` passed. Terminal cancellation ends the wait.
    asio::awaitable<void> wait(std::chrono::steady_clock::duration timeout);

private:
    friend class event_hub;
    void push(const engine::run_event& ev);
    void close();
    void wake();

    std::deque<engine::run_event> queue_;
    std::size_t capacity_;
    bool overflowed_ = false;
    bool closed_ = false;
    asio::steady_timer timer_;
};

/// @par Thread safety
/// Strand-confined: on_event, subscribe and close run on the run's io_context thread.
class event_hub final : public engine::event_sink
{
public:
    /// `queue_capacity`: events a subscriber may have queued before it is marked overflowed
    /// (0: at the first event — every subscriber then follows by catching up; tests use it).
    explicit event_hub(asio::any_io_executor ex, std::size_t queue_capacity = 8192);
    ~event_hub() override;

    void on_event(const engine::run_event& ev) override;

    struct snapshot
    {
        /// The live events of the instances not committed yet, in the order they happened
        /// (text deltas coalesced per stretch).
        std::vector<engine::run_event> tail;
        /// Every event after `tail`. Null when the hub is already closed.
        std::shared_ptr<event_subscription> subscription;
    };
    /// The uncommitted tail now and a queue of every later event, atomically.
    snapshot subscribe();

    /// The session is over: every subscription is closed, and later subscribers get none.
    void close();
    bool closed() const noexcept { return closed_; }
    /// Live subscriptions (SSE clients following the run).
    std::size_t subscribers() const;
    /// Events held in the tail (tests, memory figures).
    std::size_t tail_size() const noexcept { return tail_.size(); }

private:
    void drop_committed(const std::string& instance);

    asio::any_io_executor ex_;
    std::size_t capacity_;
    bool closed_ = false;
    struct tail_entry
    {
        std::string instance;
        engine::run_event event;
    };
    std::deque<tail_entry> tail_;
    std::vector<std::weak_ptr<event_subscription>> subs_;
};

}  // namespace ep::runtime
