#include <ep/engine/routing/retry_policy.hpp>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include <random>
#include <set>

namespace {

using namespace std::chrono_literals;
using ep::engine::failure_action;
using ep::engine::plan_after_failure;
using ep::engine::retry_policy;
using ep::providers::diagnostics;
using ep::providers::provider_errc;

retry_policy policy()
{
    retry_policy p;
    p.max_attempts_per_candidate = 3;
    p.max_attempts_per_phase = 6;
    p.base_delay = 500ms;
    p.max_delay = 8000ms;
    p.retry_after_cap = 30000ms;
    p.min_spacing = 250ms;
    return p;
}

TEST(retry_policy, ceiling_doubles_then_saturates_at_max_delay)
{
    auto p = policy();
    EXPECT_EQ(p.backoff_ceiling(0), 500ms);
    EXPECT_EQ(p.backoff_ceiling(1), 1000ms);
    EXPECT_EQ(p.backoff_ceiling(2), 2000ms);
    EXPECT_EQ(p.backoff_ceiling(3), 4000ms);
    EXPECT_EQ(p.backoff_ceiling(4), 8000ms);
    EXPECT_EQ(p.backoff_ceiling(5), 8000ms);
    EXPECT_EQ(p.backoff_ceiling(1000), 8000ms);  // no overflow
}

TEST(retry_policy, full_jitter_stays_within_bounds_and_varies)
{
    auto p = policy();
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int n = 0; n < 8; ++n)
    {
        std::set<long long> seen;
        for (int i = 0; i < 500; ++i)
        {
            auto d = p.backoff(n, u(rng));
            ASSERT_GE(d, p.min_spacing);
            ASSERT_LE(d, p.backoff_ceiling(n));
            seen.insert(d.count());
        }
        EXPECT_GT(seen.size(), 50u) << "jitter must spread the delays (n=" << n << ")";
    }
}

TEST(retry_policy, jitter_extremes_map_to_floor_and_ceiling)
{
    auto p = policy();
    EXPECT_EQ(p.backoff(3, 0.0), 250ms);   // never zero: min spacing
    EXPECT_EQ(p.backoff(3, 1.0), 4000ms);
    EXPECT_EQ(p.backoff(3, 0.5), 2000ms);
    EXPECT_EQ(p.backoff(3, -3.0), 250ms);  // clamped
    EXPECT_EQ(p.backoff(3, 7.0), 4000ms);
}

TEST(plan_after_failure, retry_after_is_honoured_below_the_cap)
{
    diagnostics d;
    d.http_status = 429;
    d.retry_after = 1200ms;
    auto plan = plan_after_failure(policy(), provider_errc::rate_limited, d, 1, 1, true, 0.9);
    EXPECT_EQ(plan.action, failure_action::retry_same);
    EXPECT_EQ(plan.delay, 1200ms);
    EXPECT_TRUE(plan.counts_against_circuit);
}

TEST(plan_after_failure, tiny_retry_after_is_raised_to_min_spacing)
{
    diagnostics d;
    d.retry_after = 0ms;
    auto plan = plan_after_failure(policy(), provider_errc::rate_limited, d, 1, 1, true, 0.9);
    EXPECT_EQ(plan.action, failure_action::retry_same);
    EXPECT_EQ(plan.delay, 250ms);
}

TEST(plan_after_failure, retry_after_above_the_cap_falls_back_instead_of_sleeping)
{
    diagnostics d;
    d.retry_after = 31s;
    auto plan = plan_after_failure(policy(), provider_errc::rate_limited, d, 1, 1, true, 0.9);
    EXPECT_EQ(plan.action, failure_action::next_candidate);
    EXPECT_EQ(plan.delay, 0ms);
    EXPECT_NE(plan.reason.find("exceeds the cap"), std::string::npos) << plan.reason;
}

TEST(plan_after_failure, backoff_without_retry_after_uses_the_retry_count)
{
    auto plan = plan_after_failure(policy(), provider_errc::overloaded, {}, 3, 3, true, 1.0);
    EXPECT_EQ(plan.action, failure_action::next_candidate);  // 3 attempts = the per-candidate bound
    plan = plan_after_failure(policy(), provider_errc::overloaded, {}, 2, 2, true, 1.0);
    EXPECT_EQ(plan.action, failure_action::retry_same);
    EXPECT_EQ(plan.delay, 1000ms);  // second retry ceiling, u = 1
}

TEST(plan_after_failure, refusals_are_never_retried_on_the_same_model)
{
    for (auto e : {provider_errc::auth_failed, provider_errc::invalid_request, provider_errc::content_filter})
    {
        auto plan = plan_after_failure(policy(), e, {}, 1, 1, true, 0.5);
        EXPECT_EQ(plan.action, failure_action::next_candidate) << make_error_code(e).message();
    }
    auto auth = plan_after_failure(policy(), provider_errc::auth_failed, {}, 1, 1, true, 0.5);
    EXPECT_TRUE(auth.skip_provider);
    auto filtered = plan_after_failure(policy(), provider_errc::content_filter, {}, 1, 1, true, 0.5);
    EXPECT_TRUE(filtered.skip_model);
    EXPECT_FALSE(filtered.counts_against_circuit);  // a refusal says nothing about health
}

TEST(plan_after_failure, context_length_needs_a_larger_window)
{
    auto plan = plan_after_failure(policy(), provider_errc::context_length_exceeded, {}, 1, 1, true, 0.5);
    EXPECT_EQ(plan.action, failure_action::next_candidate);
    EXPECT_TRUE(plan.needs_larger_context);
    EXPECT_FALSE(plan.counts_against_circuit);
}

TEST(plan_after_failure, should_retry_false_and_silent_providers_move_on)
{
    diagnostics d;
    d.should_retry = false;
    EXPECT_EQ(plan_after_failure(policy(), provider_errc::rate_limited, d, 1, 1, true, 0.5).action,
              failure_action::next_candidate);
    EXPECT_EQ(plan_after_failure(policy(), provider_errc::first_byte_timeout, {}, 1, 1, true, 0.5).action,
              failure_action::next_candidate);
    // The last candidate retries a silent provider rather than give up at once.
    EXPECT_EQ(plan_after_failure(policy(), provider_errc::first_byte_timeout, {}, 1, 1, false, 0.5).action,
              failure_action::retry_same);
}

TEST(plan_after_failure, phase_budget_stops)
{
    auto plan = plan_after_failure(policy(), provider_errc::overloaded, {}, 1, 6, true, 0.5);
    EXPECT_EQ(plan.action, failure_action::stop);
    plan = plan_after_failure(policy(), boost::asio::error::operation_aborted, {}, 1, 1, true, 0.5);
    EXPECT_EQ(plan.action, failure_action::stop);
}

}  // namespace
