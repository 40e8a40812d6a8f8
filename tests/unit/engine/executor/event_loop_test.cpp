// run_event_loop: the same contract as io_context::run(), with a poll before it sleeps.
#include <ep/engine/run/event_loop.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace ep::engine {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(event_loop, runs_handlers_posted_from_another_thread_while_polling_and_while_asleep_then_returns)
{
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    int ran = 0;
    std::thread other([&] {
        asio::post(ioc, [&] { ++ran; });  // probably while the loop still polls
        std::this_thread::sleep_for(20ms);
        asio::post(ioc, [&] {  // long after it went to sleep
            ++ran;
            guard.reset();
        });
    });
    run_event_loop(ioc, 100us);
    other.join();
    EXPECT_EQ(ran, 2);
    EXPECT_TRUE(ioc.stopped());
}

TEST(event_loop, waits_for_timers_and_returns_when_no_work_is_left)
{
    asio::io_context ioc;
    // Read the clock before the timer computes its expiry, so the bound below cannot undershoot.
    const auto t0 = std::chrono::steady_clock::now();
    asio::steady_timer t(ioc, 15ms);
    bool fired = false;
    t.async_wait([&](boost::system::error_code ec) { fired = !ec; });
    run_event_loop(ioc);
    EXPECT_TRUE(fired);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 15ms);
}

TEST(event_loop, an_exception_from_a_handler_reaches_the_caller)
{
    asio::io_context ioc;
    asio::post(ioc, [] { throw std::runtime_error("boom"); });
    EXPECT_THROW(run_event_loop(ioc), std::runtime_error);
}

}  // namespace
}  // namespace ep::engine
