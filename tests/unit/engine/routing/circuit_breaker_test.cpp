#include <ep/engine/routing/circuit_breaker.hpp>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using ep::engine::circuit_breaker;
using ep::engine::circuit_breaker_config;
using ep::engine::circuit_registry;
using ep::engine::circuit_state;

struct fake_clock
{
    circuit_breaker::clock::time_point now{std::chrono::hours(5)};
    circuit_breaker::now_fn fn()
    {
        return [this] { return now; };
    }
};

circuit_breaker_config config()
{
    circuit_breaker_config c;
    c.consecutive_failures_to_open = 3;
    c.failure_rate_to_open = 0.5;
    c.min_calls_in_window = 100;  // off unless a test lowers it
    c.window = 60s;
    c.cooldown = 30s;
    return c;
}

TEST(circuit_breaker, opens_after_consecutive_failures_and_skips_while_open)
{
    fake_clock clock;
    circuit_breaker b(config(), clock.fn());
    for (int i = 0; i < 2; ++i)
    {
        ASSERT_TRUE(b.allow());
        b.record_failure();
    }
    EXPECT_EQ(b.state(), circuit_state::closed);
    ASSERT_TRUE(b.allow());
    b.record_failure();
    EXPECT_EQ(b.state(), circuit_state::open);
    EXPECT_FALSE(b.allow());
    clock.now += 29s;
    EXPECT_FALSE(b.allow());
    EXPECT_TRUE(b.is_open());
}

TEST(circuit_breaker, success_resets_the_consecutive_count)
{
    fake_clock clock;
    circuit_breaker b(config(), clock.fn());
    b.record_failure();
    b.record_failure();
    b.record_success();
    b.record_failure();
    b.record_failure();
    EXPECT_EQ(b.state(), circuit_state::closed);
}

TEST(circuit_breaker, half_open_allows_one_probe_and_closes_on_success)
{
    fake_clock clock;
    circuit_breaker b(config(), clock.fn());
    for (int i = 0; i < 3; ++i)
        b.record_failure();
    clock.now += 30s;
    EXPECT_TRUE(b.allow());  // the probe
    EXPECT_EQ(b.state(), circuit_state::half_open);
    EXPECT_FALSE(b.allow()) << "only one probe at a time";
    b.record_success();
    EXPECT_EQ(b.state(), circuit_state::closed);
    EXPECT_TRUE(b.allow());
    EXPECT_TRUE(b.allow());
}

TEST(circuit_breaker, failed_probe_reopens_for_a_new_cooldown)
{
    fake_clock clock;
    circuit_breaker b(config(), clock.fn());
    for (int i = 0; i < 3; ++i)
        b.record_failure();
    clock.now += 31s;
    ASSERT_TRUE(b.allow());
    b.record_failure();
    EXPECT_EQ(b.state(), circuit_state::open);
    clock.now += 20s;
    EXPECT_FALSE(b.allow());
    clock.now += 10s;
    EXPECT_TRUE(b.allow());
}

TEST(circuit_breaker, released_probe_lets_another_call_probe)
{
    fake_clock clock;
    circuit_breaker b(config(), clock.fn());
    for (int i = 0; i < 3; ++i)
        b.record_failure();
    clock.now += 30s;
    ASSERT_TRUE(b.allow());
    b.release();  // e.g. the probe was cancelled by the user
    EXPECT_EQ(b.state(), circuit_state::half_open);
    EXPECT_TRUE(b.allow());
}

TEST(circuit_breaker, opens_on_failure_rate_within_the_window)
{
    fake_clock clock;
    auto cfg = config();
    cfg.consecutive_failures_to_open = 100;
    cfg.min_calls_in_window = 4;
    circuit_breaker b(cfg, clock.fn());
    b.record_success();
    b.record_failure();
    b.record_success();
    EXPECT_EQ(b.state(), circuit_state::closed);
    b.record_failure();  // 2 of 4 = 50%
    EXPECT_EQ(b.state(), circuit_state::open);
}

TEST(circuit_breaker, outcomes_outside_the_window_do_not_count)
{
    fake_clock clock;
    auto cfg = config();
    cfg.consecutive_failures_to_open = 100;
    cfg.min_calls_in_window = 4;
    circuit_breaker b(cfg, clock.fn());
    b.record_failure();
    b.record_failure();
    clock.now += 61s;  // those two age out
    b.record_success();
    b.record_success();
    b.record_success();
    b.record_failure();  // 1 of 4
    EXPECT_EQ(b.state(), circuit_state::closed);
}

TEST(circuit_registry, one_breaker_per_provider_and_model)
{
    fake_clock clock;
    circuit_registry reg(config(), clock.fn());
    auto a = reg.get("anthropic", "m1");
    EXPECT_EQ(a, reg.get("anthropic", "m1"));
    EXPECT_NE(a, reg.get("anthropic", "m2"));
    EXPECT_NE(a, reg.get("openai", "m1"));
    EXPECT_EQ(reg.find("gemini", "x"), nullptr);
    for (int i = 0; i < 3; ++i)
        a->record_failure();
    EXPECT_TRUE(reg.get("anthropic", "m1")->is_open());
    EXPECT_FALSE(reg.get("anthropic", "m2")->is_open());
}

}  // namespace
