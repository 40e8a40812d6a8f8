#include <ep/engine/routing/async_semaphore.hpp>
#include <ep/engine/routing/rate_limiter.hpp>

#include "routing_test_util.hpp"
#include "scripted_provider.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ep::engine::async_semaphore;
using ep::engine::rate_limit_config;
using ep::engine::rate_limiter;
using ep::testing::run_to_end;
using ep::testing::virtual_time_source;

TEST(async_semaphore, limits_holders_and_wakes_waiters_in_order)
{
    asio::io_context ctx;
    async_semaphore sem(2);
    std::vector<int> order;
    int holding = 0;
    int max_holding = 0;
    auto worker = [&](int id) -> asio::awaitable<void> {
        auto ec = co_await sem.acquire();
        EXPECT_FALSE(ec);
        ++holding;
        max_holding = std::max(max_holding, holding);
        order.push_back(id);
        for (int i = 0; i < 3; ++i)  // hold the permit across a few scheduler turns
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        --holding;
        sem.release();
    };
    for (int i = 0; i < 6; ++i)
        asio::co_spawn(ctx, worker(i), asio::detached);
    ctx.run();
    EXPECT_EQ(max_holding, 2);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(sem.available(), 2u);
    EXPECT_EQ(sem.waiting(), 0u);
}

TEST(async_semaphore, a_cancelled_wait_returns_aborted_and_holds_nothing)
{
    asio::io_context ctx;
    async_semaphore sem(1);
    ASSERT_TRUE(sem.try_acquire());
    const auto started = std::chrono::steady_clock::now();
    auto ec = run_to_end(ctx, sem.acquire(), 20ms);
    EXPECT_EQ(ec, asio::error::operation_aborted);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(sem.waiting(), 0u);
    sem.release();
    EXPECT_EQ(sem.available(), 1u) << "the cancelled waiter must not have taken the permit";
}

TEST(rate_limiter, request_bucket_allows_a_minute_then_paces)
{
    asio::io_context ctx;
    auto time = std::make_shared<virtual_time_source>();
    rate_limiter rl(rate_limit_config{120, 0}, time);
    auto body = [&]() -> asio::awaitable<int> {
        for (int i = 0; i < 120; ++i)
            EXPECT_FALSE(co_await rl.acquire(0));
        co_return 0;
    };
    run_to_end(ctx, body());
    EXPECT_TRUE(time->sleeps().empty()) << "a full bucket serves a burst without waiting";
    const auto before = time->now();
    auto more = [&]() -> asio::awaitable<int> {
        for (int i = 0; i < 4; ++i)
            EXPECT_FALSE(co_await rl.acquire(0));
        co_return 0;
    };
    run_to_end(ctx, more());
    // 120 per minute = one every 500 ms once the burst is used up.
    EXPECT_EQ(time->now() - before, 2000ms);
}

TEST(rate_limiter, token_bucket_waits_for_enough_tokens_and_accepts_corrections)
{
    asio::io_context ctx;
    auto time = std::make_shared<virtual_time_source>();
    rate_limiter rl(rate_limit_config{0, 6000}, time);  // 100 tokens per second
    EXPECT_EQ(rl.wait_time(5000), 0ms);
    auto body = [&]() -> asio::awaitable<int> {
        EXPECT_FALSE(co_await rl.acquire(5000));
        co_return 0;
    };
    run_to_end(ctx, body());
    EXPECT_EQ(rl.wait_time(1000), 0ms);  // 1000 left
    EXPECT_EQ(rl.wait_time(1500), 5000ms);
    rl.adjust_tokens(1000);  // the call used 1000 more than reserved
    EXPECT_EQ(rl.wait_time(1000), 10000ms);
    // A demand larger than the bucket is clamped rather than waiting forever.
    EXPECT_EQ(rl.wait_time(1'000'000), 60000ms);
}

TEST(rate_limiter, cancelled_wait_takes_nothing)
{
    asio::io_context ctx;
    rate_limiter rl(rate_limit_config{1, 0}, ep::engine::make_steady_time_source());
    auto first = [&]() -> asio::awaitable<boost::system::error_code> { co_return co_await rl.acquire(0); };
    EXPECT_FALSE(run_to_end(ctx, first()));
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(run_to_end(ctx, first(), 20ms), asio::error::operation_aborted);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

}  // namespace
