#pragma once
// run_event_loop: io_context::run() that polls for a short while before it sleeps, but only
// while a completion from another thread is on its way.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace ep::engine {

/// The longest run_event_loop polls an idle loop before it blocks, even while a completion is
/// still expected: a checkpoint that comes back within it is taken without a wake-up, a slower
/// one pays one wake-up instead of burning a core. bench/e2e_chain.sh on the release binary:
/// 200 µs of polling cost ≈ 300 µs of CPU per phase more than 30 µs, for no measurable gain in
/// wall time (a SQLite commit takes longer than the wake-up it would save).
inline constexpr std::chrono::microseconds default_event_loop_linger{30};

/// Runs `ioc` until it runs out of work, like io_context::run(). When the loop goes idle while
/// `completion_expected()` says another thread is about to post to it (a store call in flight:
/// a phase's checkpoint comes back from the store's writer thread), it keeps
/// polling for up to `linger` before it blocks in the kernel: waking a thread blocked in
/// epoll_wait costs an eventfd write plus a context switch on each side, 20–30 µs on a VM, and a
/// loop that is still polling takes the completion with neither. When nothing is expected (the
/// loop waits for the network, a timer or a child process) it blocks at once: polling then only
/// burns CPU. `completion_expected` is called on this thread. Exceptions from handlers propagate
/// as from run().
void run_event_loop(boost::asio::io_context& ioc, const std::function<bool()>& completion_expected,
                    std::chrono::microseconds linger = default_event_loop_linger);

}  // namespace ep::engine
