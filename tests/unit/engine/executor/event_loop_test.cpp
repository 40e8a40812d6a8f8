// run_event_loop: the same contract as io_context::run(), with a poll before it sleeps while a
// completion is expected.
#include <ep/engine/run/event_loop.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <atomic>
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
    run_event_loop(ioc, [] { return true; }, 100us);
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
    run_event_loop(ioc, [] { return false; });
    EXPECT_TRUE(fired);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 15ms);
}

TEST(event_loop, an_exception_from_a_handler_reaches_the_caller)
{
    asio::io_context ioc;
    asio::post(ioc, [] { throw std::runtime_error("boom"); });
    EXPECT_THROW(run_event_loop(ioc, [] { return false; }), std::runtime_error);
}

// While nothing is expected the loop blocks at once: an idle wait asks the predicate once and
// polls no more (it used to spin for the whole linger on every idle wait, ~1 ms of CPU per phase).
TEST(event_loop, blocks_at_once_when_no_completion_is_expected)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc, 20ms);
    t.async_wait([](boost::system::error_code) {});
    int asked = 0;
    run_event_loop(ioc, [&] {
        ++asked;
        return false;
    }, 10ms);
    EXPECT_LE(asked, 2);  // one idle wait (plus one after the timer fired)
}

// While a completion is expected it keeps polling, asking each time, and takes the completion
// without sleeping.
TEST(event_loop, polls_while_a_completion_is_expected_and_stops_when_it_arrives)
{
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::atomic<bool> expected{true};
    int asked = 0;
    std::thread other([&] {
        std::this_thread::sleep_for(2ms);
        asio::post(ioc, [&] { guard.reset(); });
        expected = false;
    });
    run_event_loop(ioc, [&] {
        ++asked;
        return expected.load();
    }, 1s);
    other.join();
    EXPECT_GT(asked, 10);  // polled many times (2 µs apart) rather than blocking
    EXPECT_TRUE(ioc.stopped());
}

}  // namespace
}  // namespace ep::engine
