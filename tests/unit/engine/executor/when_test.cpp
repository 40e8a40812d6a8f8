// `when` and `needs_any` on the executor (fake providers): a false/null condition skips the
// phase with the expression and its value as the reason, the skip propagates to dependents,
// needs_any runs when at least one need completed, a skipped phase renders as an empty string
// and reads `status: skipped` in expressions.
#include "executor_test_util.hpp"

namespace ep::engine::exec_test {
namespace {

const char* when_yaml = R"(
name: when
inputs:
  go: {type: string, default: "no"}
phases:
  a:
    persona: writer
    prompt: "a"
  gated:
    persona: writer
    needs: [a]
    when: '.inputs.go == "yes"'
    prompt: "gated"
  after:
    persona: writer
    needs: [gated]
    prompt: "after {{ phases.gated.output }}"
  either:
    persona: writer
    needs: [a, gated]
    needs_any: true
    prompt: "either [{{ phases.gated.output }}]"
  probe:
    persona: writer
    needs: [a, gated]
    needs_any: true
    when: '.phases.gated.status == "skipped"'
    prompt: "probe"
  only_gated:
    persona: writer
    needs: [gated]
    needs_any: true
    prompt: "only gated"
)";

struct when_test : executor_fixture
{
    fake_provider& echo()
    {
        return add_provider("p1", [](const pv::chat_request& r) { return fake_reply{r.metadata.at("phase") + "!"}; });
    }

    std::string skip_reason(const std::string& phase) const
    {
        for (const auto* e : sink.of_type("phase_skipped"))
            if (e->field("phase") == phase)
                return e->field("reason");
        return "<not skipped>";
    }
};

TEST_F(when_test, a_false_condition_skips_the_phase_with_the_expression_and_its_value)
{
    auto& p1 = echo();
    load(when_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("gated"), 0);
    EXPECT_EQ(skip_reason("gated"), "when '.inputs.go == \"yes\"' is false");
    EXPECT_EQ(db().get_phase(out->run_id, "gated").value().status, phase_status::skipped);
    EXPECT_EQ(db().get_phase(out->run_id, "gated").value().error, "when '.inputs.go == \"yes\"' is false");
}

TEST_F(when_test, a_skipped_need_skips_its_dependents_unless_they_say_needs_any)
{
    auto& p1 = echo();
    load(when_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(p1.calls_for("after"), 0);
    EXPECT_EQ(skip_reason("after"), "needs 'gated', which was skipped");
    EXPECT_EQ(db().get_phase(out->run_id, "after").value().status, phase_status::skipped);

    ASSERT_EQ(p1.calls_for("either"), 1) << "needs_any: a completed, so it runs";
    for (const auto& r : p1.requests)
        if (r.metadata.at("phase") == "either")
        {
            EXPECT_EQ(last_user_text(r), "either []") << "a skipped phase renders as an empty string";
        }
    EXPECT_EQ(p1.calls_for("probe"), 1) << "expressions read status: skipped";

    EXPECT_EQ(p1.calls_for("only_gated"), 0);
    EXPECT_EQ(skip_reason("only_gated"), "none of its needs completed");
}

TEST_F(when_test, a_true_condition_runs_the_phase_and_everything_after_it)
{
    auto& p1 = echo();
    load(when_yaml);
    auto out = run_workflow({}, {}, nullptr, {{"go", "yes"}});
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("gated"), 1);
    EXPECT_EQ(p1.calls_for("after"), 1);
    EXPECT_EQ(p1.calls_for("only_gated"), 1);
    EXPECT_EQ(p1.calls_for("probe"), 0) << "gated completed, so probe's condition is false";
    EXPECT_EQ(skip_reason("probe"), "when '.phases.gated.status == \"skipped\"' is false");
    for (const auto& r : p1.requests)
        if (r.metadata.at("phase") == "either")
        {
            EXPECT_EQ(last_user_text(r), "either [gated!]");
        }
}

TEST_F(when_test, a_null_condition_skips_and_says_null)
{
    auto& p1 = echo();
    load(R"(
name: when-null
phases:
  a: {persona: writer, prompt: "a"}
  b: {persona: writer, needs: [a], when: '.inputs.absent', prompt: "b"}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.calls_for("b"), 0);
    EXPECT_EQ(skip_reason("b"), "when '.inputs.absent' is null");
}

TEST_F(when_test, a_condition_that_fails_at_run_time_fails_the_phase_and_says_why)
{
    auto& p1 = echo();
    load(R"(
name: when-error
phases:
  a: {persona: writer, prompt: "a"}
  b: {persona: writer, needs: [a], when: '.phases.a.output | tonumber > 1', prompt: "b"}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("b"), 0);
    auto b = db().get_phase(out->run_id, "b");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, phase_status::failed);
    EXPECT_EQ(b->error.rfind("when: ", 0), 0u) << b->error;
}

}  // namespace
}  // namespace ep::engine::exec_test
