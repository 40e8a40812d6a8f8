#include <ep/engine/routing/failover.hpp>
#include <ep/engine/routing/routing_error.hpp>

#include "routing_test_util.hpp"
#include "scripted_provider.hpp"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace {

namespace asio = boost::asio;
namespace pe = ep::providers;
using namespace std::chrono_literals;
using ep::engine::candidate;
using ep::engine::failover_callbacks;
using ep::engine::failover_executor;
using ep::engine::failover_options;
using ep::engine::phase_call_result;
using ep::testing::log_capture;
using ep::testing::run_to_end;
using ep::testing::script_step;
using ep::testing::scripted_provider;
using ep::testing::virtual_time_source;
using pe::provider_errc;

pe::model_info model(std::string id, std::int64_t window = 128000, double in = 3, double out = 15)
{
    pe::model_info m;
    m.id = std::move(id);
    m.context_window = window;
    m.input_price_per_mtok = in;
    m.output_price_per_mtok = out;
    return m;
}

pe::diagnostics status(int code, std::string provider_message = {},
                       std::optional<std::chrono::milliseconds> retry_after = std::nullopt)
{
    pe::diagnostics d;
    d.http_status = code;
    d.provider_message = std::move(provider_message);
    d.retry_after = retry_after;
    return d;
}

pe::usage tokens(std::int64_t in, std::int64_t out, std::int64_t cached = 0)
{
    pe::usage u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.cached_input_tokens = cached;
    return u;
}

// Everything one test needs: virtual time, a log capture, fake providers and recorders.
struct failover_fixture : ::testing::Test
{
    asio::io_context ctx;
    std::shared_ptr<virtual_time_source> time = std::make_shared<virtual_time_source>();
    log_capture logs;
    std::vector<std::unique_ptr<scripted_provider>> providers;

    std::vector<std::string> started;  // "provider/model" per attempt start
    std::vector<ep::engine::attempt_record> failed;
    std::vector<std::pair<int, std::string>> discarded;
    std::vector<ep::engine::skip_record> skips;
    std::string live_text;  // every delta forwarded, including discarded ones
    std::size_t call_base = 0;  // started.size() when the current call began

    scripted_provider& add_provider(std::string name, std::vector<pe::model_info> models = {model("m1")})
    {
        providers.push_back(std::make_unique<scripted_provider>(
            scripted_provider::make_config(std::move(name), std::move(models)), time));
        return *providers.back();
    }

    static candidate pick(scripted_provider& p, std::size_t model_index = 0)
    {
        candidate c;
        c.target = &p;
        c.info = p.config().models.at(model_index);
        c.model = c.info.id;
        return c;
    }

    failover_options options()
    {
        failover_options o;
        o.time = time;
        o.random = [] { return 0.5; };
        o.logger = logs.logger;
        o.retry.max_attempts_per_candidate = 3;
        o.retry.max_attempts_per_phase = 8;
        o.retry.base_delay = 400ms;
        o.retry.max_delay = 4000ms;
        o.retry.retry_after_cap = 5000ms;
        o.retry.min_spacing = 250ms;
        return o;
    }

    failover_callbacks callbacks()
    {
        failover_callbacks cb;
        cb.on_attempt_started = [this](int n, const std::string& p, const std::string& m) {
            EXPECT_EQ(n, static_cast<int>(started.size() - call_base) + 1) << "attempts are numbered per phase";
            started.push_back(p + "/" + m);
        };
        cb.on_event = [this](const pe::stream_event& ev) {
            if (auto const* t = std::get_if<pe::text_delta_event>(&ev))
                live_text += t->text;
        };
        cb.on_attempt_failed = [this](const ep::engine::attempt_record& a) { failed.push_back(a); };
        cb.on_discard = [this](const ep::engine::attempt_record& a, const std::string& why) {
            discarded.emplace_back(a.number, why);
        };
        cb.on_skip = [this](const ep::engine::skip_record& s) { skips.push_back(s); };
        return cb;
    }

    static pe::chat_request request()
    {
        pe::chat_request r;
        r.system = "You are terse.";
        r.messages.push_back(pe::message::user_text("Say hello"));
        return r;
    }

    phase_call_result call(failover_executor& ex, std::vector<candidate> cands,
                           std::optional<std::chrono::milliseconds> cancel_after = std::nullopt,
                           ep::engine::failover_call_options options = {})
    {
        call_base = started.size();
        auto cb = callbacks();
        auto body = [&]() -> asio::awaitable<phase_call_result> {
            auto req = request();  // named: g++ 12 mishandles temporaries passed by value to a coroutine
            co_return co_await ex.call_with_failover(cands, req, cb, options);
        };
        return run_to_end(ctx, body(), cancel_after);
    }
};

TEST_F(failover_fixture, first_success_reports_provider_model_usage_and_cost)
{
    auto& a = add_provider("anthropic", {model("claude-x", 200000, 3, 15)});
    a.then(script_step::reply({"Hel", "lo"}, tokens(1000, 500, 200)));
    failover_executor ex(options());
    auto c = pick(a);
    c.cached_input_price_per_mtok = 0.3;
    auto r = call(ex, {c});

    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.response.text, "Hello");
    EXPECT_EQ(live_text, "Hello");
    EXPECT_EQ(r.provider, "anthropic");
    EXPECT_EQ(r.model, "claude-x");
    EXPECT_EQ(r.response.model, "claude-x");
    EXPECT_EQ(r.usage.input_tokens, 1000);
    EXPECT_EQ(r.usage.output_tokens, 500);
    ASSERT_TRUE(r.cost_usd);
    EXPECT_DOUBLE_EQ(*r.cost_usd, (800 * 3.0 + 200 * 0.3 + 500 * 15.0) / 1e6);
    ASSERT_EQ(r.attempts.size(), 1u);
    EXPECT_TRUE(r.attempts[0].ok());
    EXPECT_EQ(r.attempts[0].decision, "completed");
    EXPECT_EQ(started, std::vector<std::string>{"anthropic/claude-x"});
    ASSERT_EQ(a.calls(), 1);
    EXPECT_EQ(a.requests()[0].model, "claude-x") << "the candidate's model is sent";
    EXPECT_EQ(a.requests()[0].system, "You are terse.");
}

TEST_F(failover_fixture, cached_tokens_cost_the_input_price_without_a_cached_price)
{
    auto& a = add_provider("openai", {model("gpt", 128000, 2, 8)});
    a.then(script_step::reply({"ok"}, tokens(1000, 100, 400)));
    failover_executor ex(options());
    auto r = call(ex, {pick(a)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    ASSERT_TRUE(r.cost_usd);
    EXPECT_DOUBLE_EQ(*r.cost_usd, (1000 * 2.0 + 100 * 8.0) / 1e6);
}

TEST_F(failover_fixture, retry_after_is_honoured_then_the_same_candidate_succeeds)
{
    auto& a = add_provider("anthropic", {model("claude-x")});
    a.then(script_step::fail(provider_errc::rate_limited, status(429, "slow down", 1200ms)))
        .then(script_step::reply({"fine"}, tokens(10, 2)));
    failover_executor ex(options());
    auto r = call(ex, {pick(a)});

    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    ASSERT_EQ(a.calls(), 2);
    EXPECT_EQ(a.call_times()[1] - a.call_times()[0], 1200ms);
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(r.attempts[0].status, 429);
    EXPECT_EQ(r.attempts[0].retry_in, 1200ms);
    EXPECT_EQ(r.attempts[0].decision, "retry");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].retry_in, 1200ms);
    EXPECT_NE(logs.text().find("retrying anthropic/claude-x after 429 in 1200 ms"), std::string::npos) << logs.text();
    EXPECT_EQ(r.response.text, "fine");
}

TEST_F(failover_fixture, retry_after_above_the_cap_falls_back_without_sleeping)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.then(script_step::fail(provider_errc::rate_limited, status(429, {}, 60s)));
    b.then(script_step::reply({"from b"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a), pick(b)});

    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(r.provider, "openai");
    EXPECT_EQ(a.calls(), 1);
    for (auto d : time->sleeps())
        EXPECT_LT(d, 5000ms) << "never sleeps past the Retry-After cap";
    EXPECT_EQ(r.attempts[0].decision, "fall back");
    EXPECT_NE(r.attempts[0].reason.find("exceeds the cap"), std::string::npos);
}

TEST_F(failover_fixture, persistent_429_is_bounded_and_never_a_tight_loop)
{
    auto& a = add_provider("anthropic");
    a.otherwise(script_step::fail(provider_errc::rate_limited, status(429)));
    auto opts = options();
    opts.retry.max_attempts_per_candidate = 12;
    opts.retry.max_attempts_per_phase = 12;
    opts.retry.base_delay = 1ms;  // the jitter alone would allow a hot loop
    opts.random = [] { return 0.0; };
    ep::engine::circuit_breaker_config lenient;  // (the default breaker would stop it after 5)
    lenient.consecutive_failures_to_open = 100;
    lenient.min_calls_in_window = 1000;
    opts.circuits = std::make_shared<ep::engine::circuit_registry>(lenient, [t = time] { return t->now(); });
    failover_executor ex(opts);
    auto r = call(ex, {pick(a)});

    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(a.calls(), 12) << "bounded by the attempt limits";
    auto const& times = a.call_times();
    for (std::size_t i = 0; i < times.size(); ++i)
    {
        auto in_window = std::count_if(times.begin(), times.end(),
                                       [&](auto t) { return t >= times[i] && t < times[i] + 1s; });
        EXPECT_LE(in_window, 4) << "attempts within one second starting at call " << i;
    }
    EXPECT_TRUE(r.response.text.empty());
    EXPECT_TRUE(r.provider.empty());
}

struct refusal_case
{
    provider_errc ec;
    int status;
};

class refusal_test : public failover_fixture, public ::testing::WithParamInterface<refusal_case>
{
};

TEST_P(refusal_test, is_not_retried_on_the_same_model_and_the_reason_is_kept)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai", {model("gpt")});
    a.otherwise(script_step::fail(GetParam().ec, status(GetParam().status, "the provider's own reason")));
    b.then(script_step::reply({"from b"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a), pick(b)});

    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(a.calls(), 1);
    EXPECT_EQ(r.provider, "openai");
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].status, GetParam().status);
    EXPECT_FALSE(r.attempts[0].retry_in.has_value());
    EXPECT_NE(r.attempts[0].describe().find("the provider's own reason"), std::string::npos)
        << r.attempts[0].describe();
    EXPECT_EQ(ex.circuits()->get("anthropic", "m1")->state(), ep::engine::circuit_state::closed);
}

INSTANTIATE_TEST_SUITE_P(refusals, refusal_test,
                         ::testing::Values(refusal_case{provider_errc::auth_failed, 401},
                                           refusal_case{provider_errc::auth_failed, 403},
                                           refusal_case{provider_errc::invalid_request, 400}));

TEST_F(failover_fixture, auth_failure_skips_the_providers_other_models_too)
{
    auto& a = add_provider("anthropic", {model("m1"), model("m2")});
    auto& b = add_provider("openai");
    a.otherwise(script_step::fail(provider_errc::auth_failed, status(401)));
    b.then(script_step::reply({"b"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a, 0), pick(a, 1), pick(b)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(a.calls(), 1);
    ASSERT_EQ(skips.size(), 1u);
    EXPECT_EQ(skips[0].model, "m2");
}

TEST_F(failover_fixture, content_filter_fails_the_call_by_default_and_is_never_routed_around)
{
    auto& a = add_provider("openai", {model("m1")});
    auto& b = add_provider("anthropic", {model("other")});
    a.then(script_step::fail(provider_errc::content_filter, status(400, "blocked")));
    b.then(script_step::reply({"ok"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a), pick(b)});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.ec, make_error_code(provider_errc::content_filter));
    EXPECT_EQ(b.calls(), 0) << "on_content_filter: fail (the default) never asks another model";
    ASSERT_EQ(r.attempts.size(), 1u);
    EXPECT_EQ(r.attempts[0].decision, "stop");
    EXPECT_NE(r.attempts[0].reason.find("content filter"), std::string::npos) << r.attempts[0].reason;
}

TEST_F(failover_fixture, content_filter_with_fallback_never_sends_the_same_model_again_even_elsewhere)
{
    auto& a = add_provider("openai", {model("shared")});
    auto& b = add_provider("openrouter", {model("shared")});
    auto& c = add_provider("anthropic", {model("other")});
    a.then(script_step::fail(provider_errc::content_filter, status(400, "blocked")));
    c.then(script_step::reply({"ok"}));
    failover_executor ex(options());
    ep::engine::failover_call_options opts;
    opts.on_content_filter = ep::engine::content_filter_action::fallback;
    auto r = call(ex, {pick(a), pick(b), pick(c)}, std::nullopt, opts);
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(b.calls(), 0);
    EXPECT_EQ(r.model, "other");
    EXPECT_NE(r.attempts[0].reason.find("routed around"), std::string::npos) << "the record says so";
}

TEST_F(failover_fixture, context_length_moves_to_a_larger_window_only)
{
    auto& small = add_provider("a", {model("small", 8000)});
    auto& same = add_provider("b", {model("same-size", 8000)});
    auto& smaller = add_provider("c", {model("smaller", 4000)});
    auto& large = add_provider("d", {model("large", 200000)});
    small.otherwise(script_step::fail(provider_errc::context_length_exceeded, status(400, "prompt is too long")));
    large.then(script_step::reply({"fits"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(small), pick(same), pick(smaller), pick(large)});

    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(r.model, "large");
    EXPECT_EQ(small.calls(), 1) << "never the same model again";
    EXPECT_EQ(same.calls(), 0);
    EXPECT_EQ(smaller.calls(), 0);
    ASSERT_EQ(skips.size(), 2u);
    EXPECT_NE(skips[0].reason.find("context window"), std::string::npos);
}

TEST_F(failover_fixture, context_length_with_no_larger_candidate_fails)
{
    auto& small = add_provider("a", {model("small", 8000)});
    auto& same = add_provider("b", {model("same-size", 8000)});
    small.otherwise(script_step::fail(provider_errc::context_length_exceeded, status(400)));
    failover_executor ex(options());
    auto r = call(ex, {pick(small), pick(same)});
    EXPECT_EQ(r.ec, make_error_code(provider_errc::context_length_exceeded));
    EXPECT_EQ(same.calls(), 0);
}

TEST_F(failover_fixture, mid_stream_break_discards_the_partial_output_and_restarts)
{
    auto& a = add_provider("anthropic");
    a.then(script_step::fail_after({"PARTIAL ", "ANSWER"}, provider_errc::stream_truncated))
        .then(script_step::reply({"complete answer"}, tokens(50, 5)));
    failover_executor ex(options());
    auto r = call(ex, {pick(a)});

    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(r.response.text, "complete answer");
    EXPECT_EQ(r.response.text.find("PARTIAL"), std::string::npos);
    ASSERT_EQ(discarded.size(), 1u);
    EXPECT_EQ(discarded[0].first, 1);
    EXPECT_NE(discarded[0].second.find("discarded"), std::string::npos);
    EXPECT_EQ(r.attempts[0].discarded_chars, std::string("PARTIAL ANSWER").size());
    EXPECT_EQ(r.usage.input_tokens, 50) << "usage of the successful attempt only";
    EXPECT_EQ(live_text, "PARTIAL ANSWERcomplete answer") << "the live view saw both; on_discard told it";
}

TEST_F(failover_fixture, stall_mid_answer_falls_over_to_the_next_candidate)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.then(script_step::fail_after({"half"}, provider_errc::idle_timeout));
    b.then(script_step::reply({"whole"}));
    auto opts = options();
    opts.retry.max_attempts_per_candidate = 1;
    failover_executor ex(opts);
    auto r = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(r.response.text, "whole");
    EXPECT_EQ(r.provider, "openai");
    EXPECT_EQ(discarded.size(), 1u);
}

TEST_F(failover_fixture, a_stream_that_stalls_twice_on_one_model_falls_over_after_one_retry)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.otherwise(script_step::fail_after({"half"}, provider_errc::idle_timeout));
    b.then(script_step::reply({"whole"}));
    auto opts = options();
    opts.retry.max_attempts_per_candidate = 5;  // a stall does not use them all
    failover_executor ex(opts);
    auto r = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(a.calls(), 2) << "one same-model retry, then the next candidate";
    EXPECT_EQ(r.provider, "openai");
    EXPECT_NE(r.attempts[1].reason.find("stalled or was cut again"), std::string::npos) << r.attempts[1].reason;
}

TEST_F(failover_fixture, a_retry_whose_wait_would_pass_the_deadline_is_not_made)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.otherwise(script_step::fail(provider_errc::rate_limited, status(429, {}, 4000ms)));
    b.then(script_step::reply({"from b"}));
    failover_executor ex(options());
    ep::engine::failover_call_options opts;
    opts.deadline = std::chrono::steady_clock::now() + 2s;  // real time: less than Retry-After
    auto r = call(ex, {pick(a), pick(b)}, std::nullopt, opts);
    ASSERT_TRUE(r.ok()) << r.ec.message() << "\n" << logs.text();
    EXPECT_EQ(a.calls(), 1);
    EXPECT_TRUE(time->sleeps().empty()) << "no sleep towards a deadline it would pass";
    EXPECT_NE(r.attempts[0].reason.find("timeout would pass"), std::string::npos) << r.attempts[0].reason;
}

TEST_F(failover_fixture, a_stream_without_finish_is_never_a_success)
{
    auto& a = add_provider("anthropic");
    auto broken = script_step::reply({"looks done"});
    broken.omit_finish = true;
    a.then(broken).then(script_step::reply({"really done"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(r.response.text, "really done");
    EXPECT_EQ(r.attempts[0].ec, make_error_code(provider_errc::stream_truncated));
}

TEST_F(failover_fixture, silent_provider_falls_over_to_the_next_candidate)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.then(script_step::fail(provider_errc::first_byte_timeout));
    b.then(script_step::reply({"b"}));
    failover_executor ex(options());
    auto r = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(r.ok()) << r.ec.message() << " / " << r.diag.to_string() << "\n" << logs.text();
    EXPECT_EQ(a.calls(), 1);
    EXPECT_EQ(r.provider, "openai");
}

TEST_F(failover_fixture, total_failure_reports_every_attempt_and_no_completion)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.otherwise(script_step::fail(provider_errc::overloaded, status(529, "Overloaded")));
    b.otherwise(script_step::fail_after({"partial"}, provider_errc::stream_truncated));
    failover_executor ex(options());
    auto r = call(ex, {pick(a), pick(b)});

    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.ec, make_error_code(provider_errc::stream_truncated));
    EXPECT_EQ(a.calls(), 3);
    EXPECT_EQ(b.calls(), 3);
    ASSERT_EQ(r.attempts.size(), 6u);
    for (auto const& at : r.attempts)
        EXPECT_FALSE(at.ok()) << "a failed attempt is never a completion";
    EXPECT_TRUE(r.response.text.empty());
    EXPECT_TRUE(r.provider.empty());
    EXPECT_FALSE(r.cost_usd.has_value()) << "a failed call has no cost";
    EXPECT_EQ(failed.size(), 6u);
}

TEST_F(failover_fixture, phase_attempt_budget_bounds_all_candidates)
{
    auto& a = add_provider("a");
    auto& b = add_provider("b");
    auto& c = add_provider("c");
    for (auto* p : {&a, &b, &c})
        p->otherwise(script_step::fail(provider_errc::overloaded, status(503)));
    auto opts = options();
    opts.retry.max_attempts_per_phase = 4;
    failover_executor ex(opts);
    auto r = call(ex, {pick(a), pick(b), pick(c)});
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(a.calls() + b.calls() + c.calls(), 4);
    EXPECT_EQ(c.calls(), 0);
}

TEST_F(failover_fixture, open_circuit_serves_from_the_next_candidate_then_probes_after_cooldown)
{
    auto& a = add_provider("anthropic");
    auto& b = add_provider("openai");
    a.then(script_step::fail(provider_errc::overloaded, status(529)))
        .then(script_step::fail(provider_errc::overloaded, status(529)))
        .then(script_step::reply({"a is back"}));
    b.otherwise(script_step::reply({"from b"}));

    ep::engine::circuit_breaker_config cb;
    cb.consecutive_failures_to_open = 2;
    cb.cooldown = 30s;
    auto opts = options();
    opts.circuits = std::make_shared<ep::engine::circuit_registry>(cb, [t = time] { return t->now(); });
    failover_executor ex(opts);

    auto first = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.provider, "openai");
    EXPECT_EQ(a.calls(), 2) << "the circuit opened after two failures; no third try";
    EXPECT_TRUE(opts.circuits->get("anthropic", "m1")->is_open());

    auto second = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second.provider, "openai");
    EXPECT_EQ(a.calls(), 2) << "skipped while open";
    ASSERT_FALSE(second.skipped.empty());
    EXPECT_EQ(second.skipped[0].reason, "circuit open");

    time->advance(31s);
    auto third = call(ex, {pick(a), pick(b)});
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third.provider, "anthropic") << "the probe after the cooldown succeeds";
    EXPECT_EQ(opts.circuits->get("anthropic", "m1")->state(), ep::engine::circuit_state::closed);
}

TEST_F(failover_fixture, every_circuit_open_is_a_routing_error)
{
    auto& a = add_provider("anthropic");
    ep::engine::circuit_breaker_config cb;
    cb.consecutive_failures_to_open = 1;
    auto opts = options();
    opts.circuits = std::make_shared<ep::engine::circuit_registry>(cb, [t = time] { return t->now(); });
    opts.circuits->get("anthropic", "m1")->record_failure();
    failover_executor ex(opts);
    auto r = call(ex, {pick(a)});
    EXPECT_EQ(r.ec, make_error_code(ep::engine::routing_errc::all_candidates_skipped));
    EXPECT_NE(r.diag.message.find("circuit open"), std::string::npos);
    EXPECT_EQ(a.calls(), 0);
    EXPECT_TRUE(r.attempts.empty());

    auto none = call(ex, {});
    EXPECT_EQ(none.ec, make_error_code(ep::engine::routing_errc::no_candidates));
}

TEST_F(failover_fixture, concurrency_limit_caps_calls_in_flight)
{
    auto& a = add_provider("anthropic");
    a.otherwise(script_step::reply({"x", "y", "z"}, tokens(1, 1), 10ms));
    auto limits = std::make_shared<ep::engine::provider_limits>(time);
    ep::engine::provider_limit_config lc;
    lc.max_concurrent = 2;
    limits->configure("anthropic", lc);
    auto opts = options();
    opts.limits = limits;
    failover_executor ex(opts);

    int completed = 0;
    auto cands = std::vector<candidate>{pick(a)};
    const auto req = request();
    const ep::engine::failover_call_options call_opts;
    for (int i = 0; i < 6; ++i)
        asio::co_spawn(ctx, ex.call_with_failover(cands, req, ep::engine::no_failover_callbacks(), call_opts),
                       [&](std::exception_ptr e, phase_call_result r) {
            EXPECT_FALSE(e);
            EXPECT_TRUE(r.ok());
            ++completed;
        });
    ctx.run();
    EXPECT_EQ(completed, 6);
    EXPECT_EQ(a.calls(), 6);
    EXPECT_EQ(a.max_in_flight(), 2);
}

TEST_F(failover_fixture, request_rate_limit_paces_calls)
{
    auto& a = add_provider("anthropic");
    a.otherwise(script_step::reply({"ok"}));
    auto limits = std::make_shared<ep::engine::provider_limits>(time);
    ep::engine::provider_limit_config lc;
    lc.requests_per_minute = 2;  // a burst of two, then one every 30 s
    limits->configure("anthropic", lc);
    auto opts = options();
    opts.limits = limits;
    failover_executor ex(opts);
    for (int i = 0; i < 4; ++i)
        ASSERT_TRUE(call(ex, {pick(a)}).ok());
    auto const& t = a.call_times();
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[1] - t[0], 0ms);
    EXPECT_GE(t[2] - t[1], 30s);
    EXPECT_GE(t[3] - t[2], 30s);
}

// ---- cancellation (real time: the executor must stop promptly) ------------------------------

struct real_time_fixture : failover_fixture
{
    failover_options real_options()
    {
        auto o = options();
        o.time = ep::engine::make_steady_time_source();
        return o;
    }
    scripted_provider& add_real_provider(std::string name)
    {
        providers.push_back(std::make_unique<scripted_provider>(
            scripted_provider::make_config(std::move(name), {model("m1")}), ep::engine::make_steady_time_source()));
        return *providers.back();
    }
};

TEST_F(real_time_fixture, cancel_during_backoff_stops_at_once_and_is_not_a_provider_failure)
{
    auto& a = add_real_provider("anthropic");
    a.otherwise(script_step::fail(provider_errc::rate_limited, status(429, {}, 4000ms)));
    failover_executor ex(real_options());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call(ex, {pick(a)}, 50ms);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(r.ec, asio::error::operation_aborted);
    EXPECT_EQ(a.calls(), 1);
    EXPECT_TRUE(r.response.text.empty());
    EXPECT_NE(logs.text().find("cancelled while waiting to retry"), std::string::npos);
}

TEST_F(real_time_fixture, cancel_during_a_stream_discards_it_and_spares_the_circuit)
{
    auto& a = add_real_provider("anthropic");
    auto& b = add_real_provider("openai");
    a.then(script_step::hang({"some text"}));
    b.otherwise(script_step::reply({"never"}));
    ep::engine::circuit_breaker_config cb;
    cb.consecutive_failures_to_open = 1;
    auto opts = real_options();
    opts.circuits = std::make_shared<ep::engine::circuit_registry>(cb);
    failover_executor ex(opts);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call(ex, {pick(a), pick(b)}, 50ms);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(r.ec, asio::error::operation_aborted);
    EXPECT_EQ(a.cancelled_calls(), 1) << "the provider call itself was cancelled";
    EXPECT_EQ(b.calls(), 0) << "a cancel is not a reason to fall back";
    EXPECT_TRUE(r.response.text.empty());
    ASSERT_EQ(discarded.size(), 1u);
    EXPECT_TRUE(failed.empty()) << "a cancel is not reported as a provider failure";
    EXPECT_EQ(opts.circuits->get("anthropic", "m1")->state(), ep::engine::circuit_state::closed);
}

TEST_F(real_time_fixture, the_phase_deadline_ends_a_hanging_call_as_a_failed_attempt)
{
    auto& a = add_real_provider("anthropic");
    auto& b = add_real_provider("openai");
    a.then(script_step::hang({"some text"}));
    b.otherwise(script_step::reply({"never"}));
    failover_executor ex(real_options());
    ep::engine::failover_call_options opts;
    opts.deadline = std::chrono::steady_clock::now() + 100ms;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call(ex, {pick(a), pick(b)}, std::nullopt, opts);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(r.ec, ep::engine::routing_errc::deadline_exceeded);
    EXPECT_EQ(a.cancelled_calls(), 1) << "the call itself was cancelled";
    EXPECT_EQ(b.calls(), 0) << "no time is left for another candidate";
    ASSERT_EQ(r.attempts.size(), 1u) << "the attempt the deadline ended is recorded, as failed";
    EXPECT_EQ(r.attempts[0].ec, ep::engine::routing_errc::deadline_exceeded);
    EXPECT_EQ(failed.size(), 1u);
    EXPECT_EQ(discarded.size(), 1u) << "its partial text is discarded";
}

TEST_F(real_time_fixture, cancel_while_waiting_for_a_concurrency_slot)
{
    auto& a = add_real_provider("anthropic");
    a.then(script_step::hang());
    auto limits = std::make_shared<ep::engine::provider_limits>(ep::engine::make_steady_time_source());
    ep::engine::provider_limit_config lc;
    lc.max_concurrent = 1;
    limits->configure("anthropic", lc);
    auto opts = real_options();
    opts.limits = limits;
    failover_executor ex(opts);

    // The first call holds the only slot (hangs); cancel both after 50 ms.
    asio::cancellation_signal hold_signal;
    std::optional<phase_call_result> held;
    auto cands = std::vector<candidate>{pick(a)};
    const auto req = request();
    const ep::engine::failover_call_options call_opts;
    asio::co_spawn(ctx, ex.call_with_failover(cands, req, ep::engine::no_failover_callbacks(), call_opts),
                   asio::bind_cancellation_slot(hold_signal.slot(), [&](std::exception_ptr, phase_call_result r) {
                       held = std::move(r);
                   }));
    asio::steady_timer stop_holder(ctx, 80ms);
    stop_holder.async_wait([&](auto) { hold_signal.emit(asio::cancellation_type::terminal); });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call(ex, cands, 30ms);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(r.ec, asio::error::operation_aborted);
    EXPECT_TRUE(r.attempts.empty()) << "it never got a slot";
    ASSERT_TRUE(held.has_value());
    EXPECT_EQ(held->ec, asio::error::operation_aborted);
    EXPECT_EQ(a.calls(), 1);
}

}  // namespace
