// A phase's `retry:` block (and `defaults: retry:`) decides how often a failing call is
// repeated on the same model and how long the executor waits in between, on a virtual clock.
#include "executor_test_util.hpp"
#include "scripted_provider.hpp"

namespace ep::engine::exec_test {
namespace {

class retry_test : public executor_fixture
{
protected:
    retry_test()
    {
        failover_opts_.time = time_;
        failover_opts_.random = [] { return 1.0; };  // no jitter: every wait is the ceiling
        failover_opts_.retry.min_spacing = 1ms;
        failover_opts_.retry.max_delay = 60s;  // the fixture's quick default would cap every wait
    }

    // p1 fails `failures` times with a retryable error, then answers.
    fake_provider& flaky(int failures)
    {
        return add_provider("p1", [this, failures](const pv::chat_request&) {
            fake_reply r;
            if (calls_++ < failures)
                r.fail = pv::provider_errc::overloaded;
            return r;
        });
    }

    std::vector<std::chrono::milliseconds> sleeps() const
    {
        std::vector<std::chrono::milliseconds> out;
        for (auto d : time_->sleeps())
            out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
        return out;
    }

    std::shared_ptr<ep::testing::virtual_time_source> time_ = std::make_shared<ep::testing::virtual_time_source>();
    int calls_ = 0;
};

TEST_F(retry_test, max_attempts_and_backoff_of_the_phase_drive_the_retries)
{
    auto& p = flaky(2);
    load(R"(name: t
phases:
  a:
    persona: writer
    prompt: hi
    retry: {max_attempts: 3, backoff: {initial: 2s, max: 10s, multiplier: 3}}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p.calls_for("a"), 3);
    EXPECT_EQ(sleeps(), (std::vector<std::chrono::milliseconds>{2000ms, 6000ms}))
        << "2 s, then 2 s x 3 (the failover's own default would be 0.5 s, then 1 s)";
    auto attempts = db().get_attempts(out->run_id).value();
    ASSERT_EQ(attempts.size(), 3u);
    EXPECT_EQ(attempts[0].outcome, ps::attempt_outcome::failed);
    EXPECT_EQ(attempts[1].outcome, ps::attempt_outcome::failed);
    EXPECT_EQ(attempts[2].outcome, ps::attempt_outcome::ok);
}

TEST_F(retry_test, max_attempts_1_means_one_call_and_the_phase_fails)
{
    auto& p = flaky(1);
    load(R"(name: t
phases:
  a: {persona: writer, prompt: hi, retry: {max_attempts: 1}}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p.calls_for("a"), 1);
    EXPECT_TRUE(sleeps().empty());
}

TEST_F(retry_test, defaults_retry_applies_to_phases_and_a_phase_overrides_only_what_it_states)
{
    auto& p = flaky(100);
    load(R"(name: t
defaults:
  retry: {max_attempts: 2, backoff: {initial: 3s}}
phases:
  a: {persona: writer, prompt: hi}
  b: {persona: writer, prompt: hi, retry: {backoff: {initial: 5s}}}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p.calls_for("a"), 2) << "max_attempts from defaults";
    EXPECT_EQ(p.calls_for("b"), 2) << "max_attempts still from defaults";
    auto waits = sleeps();
    std::sort(waits.begin(), waits.end());
    EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{3000ms, 5000ms}));
}

TEST_F(retry_test, without_retry_keys_the_failover_defaults_apply)
{
    auto& p = flaky(100);
    failover_opts_.retry.max_attempts_per_candidate = 4;
    failover_opts_.retry.base_delay = 700ms;
    load("name: t\nphases:\n  a: {persona: writer, prompt: hi}\n");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(p.calls_for("a"), 4);
    EXPECT_EQ(sleeps(), (std::vector<std::chrono::milliseconds>{700ms, 1400ms, 2800ms}));
}

}  // namespace
}  // namespace ep::engine::exec_test

namespace ep::engine::exec_test {
namespace {

class content_filter_test : public executor_fixture
{
protected:
    content_filter_test()
    {
        persona_spec both;
        both.name = "both";
        // Another model: the refused one is never sent again, on any provider.
        both.provider_preferences = {{"p1", "m1", {}}, {"p2", "m2", {}}};
        pol_.personas["both"] = both;
        add_provider("p1", [](const pv::chat_request&) {
            fake_reply r;
            r.fail = pv::provider_errc::content_filter;
            return r;
        });
        add_provider("p2", [](const pv::chat_request&) { return fake_reply{"from p2"}; });
        pol_.providers["p2"].models[0].id = "m2";
    }
};

TEST_F(content_filter_test, a_refusal_fails_the_phase_by_default)
{
    load("name: t\nphases:\n  a: {persona: both, prompt: hi}\n");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(dynamic_cast<fake_provider&>(*providers_["p2"]).calls_for("a"), 0);
    EXPECT_NE(out->error.find("content filter"), std::string::npos) << out->error;
}

TEST_F(content_filter_test, on_content_filter_fallback_routes_around_it_and_says_so)
{
    load("name: t\nphases:\n  a: {persona: both, prompt: hi, on_content_filter: fallback}\n");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(out->find("a")->provider, "p2");
    auto failed = sink.of_type("attempt_failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0]->field("error").find("routed around"), std::string::npos) << failed[0]->field("error");
}

}  // namespace
}  // namespace ep::engine::exec_test
