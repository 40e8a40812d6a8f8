// Budgets on the executor (fake providers priced $1/$2 per million tokens): a call whose worst
// case (prompt estimate + max_tokens at the model's price) could pass the run's or the phase's
// limit is not made, the phase fails with budget_exceeded saying spent, limit and estimate, and
// a resume with a higher limit (--max-cost) continues.
#include "executor_test_util.hpp"

namespace ep::engine::exec_test {
namespace {

// Each call: 10 input + 20 output tokens ($0.00005); worst case with max_tokens 1000 ≈ $0.0020.
std::string budget_yaml(const std::string& run_budget, const std::string& b_extra = "", int max_tokens = 1000)
{
    return "name: budget\n" + run_budget + R"(
defaults:
  max_tokens: )" + std::to_string(max_tokens) +
           R"(
phases:
  a: {persona: writer, prompt: "a"}
  b: {persona: writer, needs: [a], prompt: "b"}
  c: {persona: writer, needs: [b], prompt: "c"}
)" + b_extra;
}

struct budget_test : executor_fixture
{
    fake_provider& echo()
    {
        return add_provider("p1", [](const pv::chat_request& r) { return fake_reply{r.metadata.at("phase")}; });
    }
    /// p1's model as a model outside the catalogue: no price.
    fake_provider& unpriced_echo()
    {
        auto& p = echo();
        auto& m = pol_.providers["p1"].models.at(0);
        m.input_price_per_mtok.reset();
        m.output_price_per_mtok.reset();
        return p;
    }
};

TEST_F(budget_test, a_call_whose_worst_case_passes_the_run_budget_is_not_made)
{
    auto& p1 = echo();
    load(budget_yaml("budget: {max_cost_usd: 0.0015}"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 0u) << "the call is refused before it is sent";
    auto a = db().get_phase(out->run_id, "a").value();
    EXPECT_EQ(a.status, phase_status::failed);
    EXPECT_EQ(a.error.rfind("budget_exceeded: the run has spent $0.0000 of its $0.0015 budget; ", 0), 0u) << a.error;
    EXPECT_NE(a.error.find("this call to p1/m1 could cost up to $0.0020 ("), std::string::npos) << a.error;
    EXPECT_NE(a.error.find(" prompt tokens + 1000 output tokens)"), std::string::npos) << a.error;
    EXPECT_NE(a.error.find("--max-cost"), std::string::npos) << a.error;
    EXPECT_EQ(db().get_phase(out->run_id, "b").value().status, phase_status::skipped);
}

TEST_F(budget_test, the_worst_case_counts_not_the_actual_cost)
{
    // The same budget lets calls through once max_tokens makes their worst case fit.
    auto& p1 = echo();
    load(budget_yaml("budget: {max_cost_usd: 0.0015}", "", 100));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.requests.size(), 3u);
}

TEST_F(budget_test, spending_counts_towards_the_limit)
{
    // $0.00209 admits a (worst ≈ $0.0020) and b ($0.00005 spent + $0.0020), not c ($0.0001 + $0.0020).
    auto& p1 = echo();
    load(budget_yaml("budget: {max_cost_usd: 0.00209}"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 2u);
    auto c = db().get_phase(out->run_id, "c").value();
    EXPECT_EQ(c.error.rfind("budget_exceeded: the run has spent $0.0001 of its $0.0021 budget", 0), 0u) << c.error;
}

TEST_F(budget_test, a_resume_with_a_higher_max_cost_continues)
{
    auto& p1 = echo();
    load(budget_yaml("budget: {max_cost_usd: 0.0015}"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::failed);

    open_store();
    auto same = run_workflow({}, first->run_id);
    ASSERT_TRUE(same) << same.error().to_string();
    EXPECT_EQ(same->status, run_status::failed) << "the limit is kept with the run";
    EXPECT_EQ(p1.requests.size(), 0u);

    max_cost_ = 1.0;
    open_store();
    auto raised = run_workflow({}, first->run_id);
    ASSERT_TRUE(raised) << raised.error().to_string();
    EXPECT_EQ(raised->status, run_status::completed) << raised->error;
    EXPECT_EQ(p1.requests.size(), 3u);
}

TEST_F(budget_test, max_cost_lowers_the_workflows_budget)
{
    auto& p1 = echo();
    load(budget_yaml("budget: {max_cost_usd: 5}"));
    max_cost_ = 0.001;
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 0u);
    EXPECT_NE(out->error.find("of its $0.0010 budget"), std::string::npos) << out->error;
}

TEST_F(budget_test, a_phase_budget_limits_that_phase_only)
{
    auto& p1 = echo();
    load(R"(
name: phase-budget
defaults: {max_tokens: 1000}
phases:
  a: {persona: writer, prompt: "a"}
  b: {persona: writer, needs: [a], prompt: "b", budget: {max_cost_usd: 0.001}}
  side: {persona: writer, needs: [a], prompt: "side"}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("a"), 1);
    EXPECT_EQ(p1.calls_for("side"), 1);
    EXPECT_EQ(p1.calls_for("b"), 0);
    auto b = db().get_phase(out->run_id, "b").value();
    EXPECT_EQ(b.error.rfind("budget_exceeded: phase 'b' has spent $0.0000 of its $0.0010 budget; ", 0), 0u) << b.error;
}

TEST_F(budget_test, a_token_budget_refuses_a_call_that_could_pass_it)
{
    auto& p1 = echo();
    load(budget_yaml("budget: {max_tokens: 1000}"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 0u);
    EXPECT_NE(out->error.find("the run has used 0 of its 1000 tokens"), std::string::npos) << out->error;
}

// A cost limit cannot be kept with a model whose cost is unknown: the call is refused (fails
// closed), with what to do about it.
TEST_F(budget_test, a_cost_limit_refuses_a_model_without_a_price)
{
    auto& p1 = unpriced_echo();
    load(budget_yaml("budget: {max_cost_usd: 100}"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 0u) << "the call is refused before it is sent";
    auto a = db().get_phase(out->run_id, "a").value();
    EXPECT_EQ(a.error.rfind("budget_exceeded: p1/m1 has no price in the catalogue, so the run's $100.0000 budget "
                            "cannot be kept",
                            0),
              0u)
        << a.error;
    EXPECT_NE(a.error.find("price: {input: 0, output: 0}"), std::string::npos) << a.error;
}

TEST_F(budget_test, a_phase_cost_limit_refuses_a_model_without_a_price_too)
{
    auto& p1 = unpriced_echo();
    load(budget_yaml("", "", 100) + "  d: {persona: writer, needs: [c], prompt: \"d\", budget: {max_cost_usd: 1}}\n");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("c"), 1);
    EXPECT_EQ(p1.calls_for("d"), 0);
    auto d = db().get_phase(out->run_id, "d").value();
    EXPECT_NE(d.error.find("so the $1.0000 budget of phase 'd' cannot be kept"), std::string::npos) << d.error;
}

// Without a cost limit the calls are made and their cost is unknown everywhere: the phase
// summaries, the phase_completed events (null), the store (NULL) and the run's totals.
TEST_F(budget_test, without_a_cost_limit_a_model_without_a_price_runs_and_its_cost_is_unknown)
{
    auto& p1 = unpriced_echo();
    load(budget_yaml("budget: {max_tokens: 100000}"));  // a token limit needs no price
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.requests.size(), 3u);
    for (const auto& p : out->phases)
        EXPECT_FALSE(p.cost_usd.has_value()) << p.id;
    const auto completed = sink.of_type("phase_completed");
    ASSERT_EQ(completed.size(), 3u);
    for (const auto* ev : completed)
    {
        EXPECT_TRUE(ev->fields.at("cost_usd").is_null()) << ev->to_json().dump();
        EXPECT_FALSE(ev->cost_usd().has_value());
    }
    for (const auto& p : db().get_phases(out->run_id).value())
        EXPECT_FALSE(p.cost_usd.has_value()) << p.phase_id;
    auto run = db().get_run(out->run_id).value();
    EXPECT_EQ(run.totals.unpriced_phases, 3);
    EXPECT_EQ(run.totals.cost_usd, 0.0);
}

}  // namespace
}  // namespace ep::engine::exec_test
