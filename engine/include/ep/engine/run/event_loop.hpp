#pragma once
// run_event_loop: io_context::run() that polls for a short while before it sleeps.

#include <boost/asio/io_context.hpp>

#include <chrono>

namespace ep::engine {

/// How long run_event_loop keeps polling an idle loop before it blocks.
inline constexpr std::chrono::microseconds default_event_loop_linger{200};

/// Runs `ioc` until it runs out of work, like io_context::run(). When the loop goes idle it
/// keeps polling for up to `linger` before it blocks in the kernel. A phase's checkpoint comes
/// back from the store's writer thread within ~100 µs, and waking a thread blocked in
/// epoll_wait costs an epoll_ctl plus a context switch on each side, 20–30 µs on a VM; a loop
/// that is still polling takes the completion with neither. An idle loop pays `linger` of CPU
/// once before it sleeps. Exceptions from handlers propagate as from run().
void run_event_loop(boost::asio::io_context& ioc, std::chrono::microseconds linger = default_event_loop_linger);

}  // namespace ep::engine
