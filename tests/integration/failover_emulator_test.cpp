// The failover executor over the REAL HTTP transport (make_provider) against the in-process
// emulator's scripted faults: attempt counts come from the emulator's request log, timing gaps
// from its timestamps, and no truncated answer may ever come back as a success.
#include <ep/emulator/emulator.hpp>
#include <ep/engine/routing/circuit_breaker.hpp>
#include <ep/engine/routing/failover.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/factory.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace emu = ep::emulator;
namespace pv = ep::providers;
using namespace std::chrono_literals;
using ep::engine::candidate;
using ep::engine::failover_callbacks;
using ep::engine::failover_executor;
using ep::engine::failover_options;
using ep::engine::phase_call_result;

pv::model_info model(std::string id, std::int64_t window)
{
    pv::model_info m;
    m.id = std::move(id);
    m.context_window = window;
    m.input_price_per_mtok = 1;
    m.output_price_per_mtok = 2;
    return m;
}

class failover_emulator : public ::testing::Test
{
protected:
    void SetUp() override
    {
        emu::emulator_config cfg;
        cfg.zero_latency = true;  // only scripted delays apply
        emulator_ = std::make_unique<emu::emulator>(cfg);
        emulator_->start();
        openai_ = make("openai", "openai", emulator_->openai_base_url(),
                       {model("o-small", 8000), model("o-large", 1000000)});
        anthropic_ = make("anthropic", "anthropic", emulator_->anthropic_base_url(),
                          {model("a-small", 8000), model("a-large", 200000)});
    }

    void TearDown() override { emulator_->stop(); }

    std::unique_ptr<pv::provider> make(std::string name, std::string type, std::string base_url,
                                       std::vector<pv::model_info> models)
    {
        pv::provider_config cfg;
        cfg.name = std::move(name);
        cfg.type = std::move(type);
        cfg.base_url = std::move(base_url);
        cfg.api_key = "test-key";
        cfg.available = true;
        cfg.capabilities = {"streaming", "system_prompt"};
        cfg.models = std::move(models);
        cfg.timeouts = timeouts_;
        return pv::make_provider(ctx_.get_executor(), cfg);
    }

    candidate cand(pv::provider& p, const std::string& id)
    {
        candidate c;
        c.target = &p;
        c.model = id;
        c.info = *p.config().find_model(id);
        return c;
    }

    void fault(const std::string& spec, const std::string& model_id)
    {
        std::string error;
        auto parsed = emu::parse_fault_spec(spec, &error);
        ASSERT_TRUE(parsed) << spec << ": " << error;
        emu::fault_rule rule;
        rule.fault = *parsed;
        rule.model = model_id;
        emulator_->add_fault(rule);
    }

    failover_options options()
    {
        failover_options o;
        o.retry.base_delay = 20ms;
        o.retry.max_delay = 100ms;
        o.retry.min_spacing = 10ms;
        o.retry.retry_after_cap = 5s;
        o.random = [] { return 0.0; };  // backoff = min_spacing: gaps come from Retry-After only
        return o;
    }

    phase_call_result call(const std::vector<candidate>& candidates, const failover_callbacks& cb = {},
                           std::optional<failover_options> opts = std::nullopt,
                           ep::engine::failover_call_options call_opts = {})
    {
        failover_executor exec(opts ? *opts : options());
        pv::chat_request req;
        req.messages.push_back(pv::message::user_text("Explain retries in two sentences."));
        req.max_tokens = 200;
        std::optional<phase_call_result> out;
        std::exception_ptr error;
        auto aw = exec.call_with_failover(candidates, req, cb, call_opts);
        asio::co_spawn(ctx_, std::move(aw), [&](std::exception_ptr e, phase_call_result r) {
            error = e;
            out = std::move(r);
        });
        ctx_.restart();
        ctx_.run_for(20s);
        if (error)
            std::rethrow_exception(error);
        if (!out)
            throw std::runtime_error("call_with_failover did not complete");
        return std::move(*out);
    }

    /// Protocol requests for `model_id`, in arrival order.
    std::vector<emu::request_record> requests_for(const std::string& model_id) const
    {
        std::vector<emu::request_record> out;
        for (auto& r : emulator_->requests())
            if (r.model == model_id && r.protocol != "admin" && r.protocol != "probe")
                out.push_back(r);
        return out;
    }

    /// The answer of a clean call, to compare a recovered answer with.
    std::string clean_answer(pv::provider& p, const std::string& model_id)
    {
        emulator_->clear_faults();
        auto r = call({cand(p, model_id)});
        EXPECT_TRUE(r.ok()) << r.diag.to_string();
        return r.response.text;
    }

    /// Rebuilds both providers with other limits (the scenarios below scale failoverbench's
    /// seconds down to milliseconds).
    void remake(const pv::timeout_config& t)
    {
        timeouts_ = t;
        openai_ = make("openai", "openai", emulator_->openai_base_url(),
                       {model("o-small", 8000), model("o-large", 1000000)});
        anthropic_ = make("anthropic", "anthropic", emulator_->anthropic_base_url(),
                          {model("a-small", 8000), model("a-large", 200000)});
    }

    static pv::timeout_config short_timeouts()
    {
        pv::timeout_config t;
        t.connect = 2s;
        t.first_byte = 300ms;
        t.first_token = 0ms;  // off unless a test sets it: first_byte and idle are what is tested
        t.idle = 300ms;
        t.total = 10s;
        return t;
    }

    pv::timeout_config timeouts_ = short_timeouts();
    asio::io_context ctx_;
    std::unique_ptr<emu::emulator> emulator_;
    std::unique_ptr<pv::provider> openai_;
    std::unique_ptr<pv::provider> anthropic_;
};

TEST_F(failover_emulator, rate_limit_honours_retry_after)
{
    fault("429,retry-after=1,times=1", "o-large");
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "openai");
    EXPECT_EQ(r.model, "o-large");
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].status, 429);
    ASSERT_TRUE(r.attempts[0].retry_in);
    EXPECT_GE(*r.attempts[0].retry_in, 1000ms);

    const auto seen = requests_for("o-large");
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].status, 429u);
    const auto gap = seen[1].time - seen[0].time;
    EXPECT_GE(gap, 900ms) << "Retry-After: 1 must be honoured";
    EXPECT_LT(gap, 4s);
    EXPECT_TRUE(requests_for("a-large").empty());
}

TEST_F(failover_emulator, server_error_then_success_retries_the_same_model)
{
    fault("500,times=1", "o-large");
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.model, "o-large");
    EXPECT_EQ(requests_for("o-large").size(), 2u);
    EXPECT_TRUE(requests_for("a-large").empty());
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_FALSE(r.attempts[0].ok());
    EXPECT_EQ(r.attempts[0].decision, "retry");
    EXPECT_TRUE(r.attempts[1].ok());
    EXPECT_GT(r.usage.output_tokens, 0);
}

TEST_F(failover_emulator, fail_first_n_then_succeed)
{
    fault("503,times=2", "o-large");
    const auto r = call({cand(*openai_, "o-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(requests_for("o-large").size(), 3u);
    EXPECT_EQ(r.attempts.size(), 3u);

    // One more failure than the per-candidate bound: the phase fails, and says why.
    emulator_->reset();
    fault("503,times=3", "o-large");
    const auto failed = call({cand(*openai_, "o-large")});
    EXPECT_FALSE(failed.ok());
    EXPECT_TRUE(failed.response.text.empty());
    EXPECT_EQ(requests_for("o-large").size(), 3u);
}

TEST_F(failover_emulator, auth_failure_falls_to_the_next_provider_without_retry)
{
    fault("401", "o-small");
    fault("401", "o-large");
    const auto r = call({cand(*openai_, "o-small"), cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    EXPECT_EQ(r.model, "a-large");
    EXPECT_EQ(requests_for("o-small").size(), 1u) << "no retry of a 401";
    EXPECT_TRUE(requests_for("o-large").empty()) << "same provider, same credentials: skipped";
    EXPECT_EQ(requests_for("a-large").size(), 1u);
    EXPECT_EQ(r.attempts.front().status, 401);
}

TEST_F(failover_emulator, context_length_moves_to_a_larger_window)
{
    fault("context-length", "o-small");
    const auto r = call({cand(*openai_, "o-small"), cand(*anthropic_, "a-small"), cand(*anthropic_, "a-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    EXPECT_EQ(r.model, "a-large");
    EXPECT_EQ(requests_for("o-small").size(), 1u) << "never the same model again";
    EXPECT_TRUE(requests_for("a-small").empty()) << "a window no larger is skipped";
    EXPECT_EQ(requests_for("a-large").size(), 1u);
    EXPECT_FALSE(r.skipped.empty());
}

TEST_F(failover_emulator, stream_cut_mid_answer_is_discarded)
{
    const auto full = clean_answer(*openai_, "o-large");
    ASSERT_GT(full.size(), 20u);
    emulator_->reset();

    fault("cut:3,times=1", "o-large");
    std::string streamed;
    int discards = 0;
    failover_callbacks cb;
    cb.on_event = [&](const pv::stream_event& ev) {
        if (const auto* d = std::get_if<pv::text_delta_event>(&ev))
            streamed += d->text;
    };
    cb.on_discard = [&](const ep::engine::attempt_record&, const std::string&) {
        ++discards;
        streamed.clear();  // what a console would do: throw the provisional text away
    };
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")}, cb);
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.response.text, full) << "the next attempt's full text, never the truncated one";
    EXPECT_EQ(streamed, full);
    EXPECT_EQ(discards, 1);
    ASSERT_GE(r.attempts.size(), 2u);
    EXPECT_FALSE(r.attempts[0].ok());
    EXPECT_GT(r.attempts[0].discarded_chars, 0u);
    EXPECT_LT(r.attempts[0].discarded_chars, full.size());
}

TEST_F(failover_emulator, missing_terminal_marker_is_never_a_success)
{
    // Anthropic: the answer is complete only with message_stop. (The OpenAI decoder accepts a
    // clean end after the finish_reason chunk without [DONE], as compatible servers omit it, so
    // the OpenAI shape of this fault is not a failure by design.)
    fault("no-terminal", "a-large");
    const auto r = call({cand(*anthropic_, "a-large")});
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.response.text.empty());
    EXPECT_EQ(r.usage.output_tokens, 0);
    EXPECT_TRUE(r.provider.empty());
    ASSERT_FALSE(r.attempts.empty());
    EXPECT_EQ(requests_for("a-large").size(), r.attempts.size());
    for (const auto& a : r.attempts)
        EXPECT_EQ(a.ec, pv::provider_errc::stream_truncated) << a.describe();

    // With a fallback, the fallback's complete answer is the result.
    const auto fb = call({cand(*anthropic_, "a-large"), cand(*openai_, "o-large")});
    ASSERT_TRUE(fb.ok()) << fb.diag.to_string();
    EXPECT_EQ(fb.provider, "openai");
    EXPECT_EQ(fb.model, "o-large");
    EXPECT_FALSE(fb.response.text.empty());
}

TEST_F(failover_emulator, stall_hits_the_idle_timeout_and_falls_back)
{
    fault("stall:2", "o-large");
    const auto start = std::chrono::steady_clock::now();
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    ASSERT_FALSE(r.attempts.empty());
    EXPECT_EQ(r.attempts[0].ec, pv::provider_errc::idle_timeout) << r.attempts[0].describe();
    // A stall is retried on the same model within its bound, then the next candidate answers.
    const auto stalled = requests_for("o-large").size();
    EXPECT_GE(stalled, 1u);
    EXPECT_LE(stalled, 3u);
    EXPECT_EQ(r.attempts.size(), stalled + 1);
    EXPECT_LT(elapsed, 5s);
    EXPECT_GE(elapsed, 250ms);
}

TEST_F(failover_emulator, slow_first_token_past_the_first_byte_timeout_uses_the_next_candidate)
{
    fault("slow:1500", "o-large");
    const auto start = std::chrono::steady_clock::now();
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    ASSERT_FALSE(r.attempts.empty());
    EXPECT_EQ(r.attempts[0].ec, pv::provider_errc::first_byte_timeout) << r.attempts[0].describe();
    // One try of the slow model (the emulator logs it only once it answers, so count attempts).
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].model, "o-large");
    EXPECT_EQ(r.attempts[1].model, "a-large");
    EXPECT_LT(elapsed, 1400ms) << "did not wait for the slow answer";
}

TEST_F(failover_emulator, circuit_opens_on_a_failing_model_serves_the_fallback_and_closes_after_a_probe)
{
    ep::engine::circuit_breaker_config cb;
    cb.consecutive_failures_to_open = 3;
    cb.cooldown = 300ms;
    auto opts = options();
    opts.circuits = std::make_shared<ep::engine::circuit_registry>(cb);
    fault("503", "o-large");  // every request, until cleared
    const std::vector<candidate> cands = {cand(*openai_, "o-large"), cand(*anthropic_, "a-large")};

    // Three failures on o-large (its per-candidate bound), then the fallback answers.
    const auto first = call(cands, {}, opts);
    ASSERT_TRUE(first.ok()) << first.diag.to_string();
    EXPECT_EQ(first.model, "a-large");
    EXPECT_EQ(requests_for("o-large").size(), 3u);
    ASSERT_TRUE(opts.circuits->find("openai", "o-large"));
    EXPECT_EQ(opts.circuits->find("openai", "o-large")->state(), ep::engine::circuit_state::open);

    // Open: o-large is not called at all, the fallback serves at once.
    const auto second = call(cands, {}, opts);
    ASSERT_TRUE(second.ok()) << second.diag.to_string();
    EXPECT_EQ(second.model, "a-large");
    EXPECT_EQ(requests_for("o-large").size(), 3u) << "no request behind an open circuit";
    ASSERT_FALSE(second.skipped.empty());
    EXPECT_EQ(second.skipped.front().model, "o-large");

    // The provider recovers; after the cooldown one probe goes through and closes the circuit.
    emulator_->clear_faults();
    std::this_thread::sleep_for(350ms);
    const auto probe = call(cands, {}, opts);
    ASSERT_TRUE(probe.ok()) << probe.diag.to_string();
    EXPECT_EQ(probe.model, "o-large");
    EXPECT_EQ(requests_for("o-large").size(), 4u);
    EXPECT_EQ(opts.circuits->find("openai", "o-large")->state(), ep::engine::circuit_state::closed);
}

// failoverbench S07, scaled: headers at once, the first token only after 20 s (here 3 s); a
// first-token limit of 15 s (here 400 ms) with idle and first-byte limits that would wait
// longer. The silent model is left on the named limit, without a same-model retry.
TEST_F(failover_emulator, s07_late_first_token_falls_over_on_the_first_token_limit)
{
    auto t = short_timeouts();
    t.first_byte = 2s;
    t.idle = 2s;
    t.first_token = 400ms;
    remake(t);
    fault("first-token:3000", "o-large");
    const auto start = std::chrono::steady_clock::now();
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].ec, pv::provider_errc::first_token_timeout) << r.attempts[0].describe();
    EXPECT_NE(r.attempts[0].diag.message.find("first-token"), std::string::npos) << r.attempts[0].diag.message;
    EXPECT_EQ(r.attempts[0].decision, "fall back");
    EXPECT_GE(elapsed, 350ms);
    EXPECT_LT(elapsed, 1900ms) << "fell over on the first-token limit, not on idle (2 s) or the answer (3 s)";
}

// failoverbench S09, scaled: the stream stalls after some tokens, stays silent, then closes.
// Without a deadline: one same-model retry at most, then the next candidate.
TEST_F(failover_emulator, s09_stall_then_close_retries_the_same_model_once_then_falls_back)
{
    fault("stall:6,for=3000", "o-large");
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")});
    ASSERT_TRUE(r.ok()) << r.diag.to_string();
    EXPECT_EQ(r.provider, "anthropic");
    ASSERT_EQ(r.attempts.size(), 3u);
    EXPECT_EQ(r.attempts[0].model, "o-large");
    EXPECT_EQ(r.attempts[0].ec, pv::provider_errc::idle_timeout) << r.attempts[0].describe();
    EXPECT_EQ(r.attempts[0].decision, "retry");
    EXPECT_EQ(r.attempts[1].model, "o-large");
    EXPECT_EQ(r.attempts[1].decision, "fall back");
    EXPECT_GT(r.attempts[0].discarded_chars, 0u) << "the partial output of a stall is thrown away";
}

// S09 against a phase deadline (failoverbench: idle 30 s, limit 45 s; here 600 ms and 1 s): a
// second stall on the same model would leave no time for the next candidate, so the
// fallback is tried at once and the phase ends well inside its deadline.
TEST_F(failover_emulator, s09_stall_falls_back_at_once_when_a_retry_would_not_fit_the_deadline)
{
    auto t = short_timeouts();
    t.idle = 600ms;
    remake(t);
    fault("stall:6,for=5000", "o-large");
    ep::engine::failover_call_options call_opts;
    const auto start = std::chrono::steady_clock::now();
    call_opts.deadline = start + 1s;
    const auto r = call({cand(*openai_, "o-large"), cand(*anthropic_, "a-large")}, {}, std::nullopt, call_opts);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.ok()) << r.diag.to_string() << " after " << r.attempts.size() << " attempts";
    EXPECT_EQ(r.provider, "anthropic");
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].ec, pv::provider_errc::idle_timeout) << r.attempts[0].describe();
    EXPECT_EQ(r.attempts[0].decision, "fall back");
    EXPECT_NE(r.attempts[0].reason.find("deadline"), std::string::npos) << r.attempts[0].reason;
    EXPECT_LT(elapsed, 1s);
}

// failoverbench S13: a content-filter refusal. By default the phase fails with the refusal
// and no other provider is asked; with on_content_filter: fallback the next candidate answers
// and the attempt says it was routed around.
TEST_F(failover_emulator, s13_content_filter_fails_by_default_and_falls_back_only_when_asked)
{
    fault("content-filter", "o-large");
    const std::vector<candidate> cands = {cand(*openai_, "o-large"), cand(*anthropic_, "a-large")};
    const auto refused = call(cands);
    EXPECT_FALSE(refused.ok());
    EXPECT_EQ(refused.ec, pv::provider_errc::content_filter) << refused.diag.to_string();
    ASSERT_EQ(refused.attempts.size(), 1u);
    EXPECT_EQ(refused.attempts[0].decision, "stop");
    EXPECT_NE(refused.attempts[0].reason.find("on_content_filter: fail"), std::string::npos);
    EXPECT_TRUE(requests_for("a-large").empty()) << "a refusal is not routed around silently";

    ep::engine::failover_call_options call_opts;
    call_opts.on_content_filter = ep::engine::content_filter_action::fallback;
    const auto routed = call(cands, {}, std::nullopt, call_opts);
    ASSERT_TRUE(routed.ok()) << routed.diag.to_string();
    EXPECT_EQ(routed.provider, "anthropic");
    ASSERT_EQ(routed.attempts.size(), 2u);
    EXPECT_EQ(routed.attempts[0].ec, pv::provider_errc::content_filter);
    EXPECT_NE(routed.attempts[0].reason.find("routed around"), std::string::npos) << routed.attempts[0].reason;
}

}  // namespace
