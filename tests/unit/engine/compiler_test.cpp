#include "engine_test_util.hpp"

#include <ep/engine/error.hpp>

#include <gtest/gtest.h>

namespace ep::engine {
namespace {

workflow_spec load(const std::string& yaml)
{
    diagnostics diag;
    auto spec = load_workflow_string(yaml, "wf.yaml", diag);
    EXPECT_TRUE(spec.has_value()) << diag.str();
    return spec ? std::move(*spec) : workflow_spec{};
}

std::vector<std::string> ids(const dag& g, const std::vector<std::size_t>& idx)
{
    std::vector<std::string> out;
    for (auto i : idx)
        out.push_back(g.id(i));
    return out;
}

TEST(compiler, computes_levels_in_document_order)
{
    auto spec = load(R"(name: w
phases:
  docs: {persona: architect, prompt: d, needs: [test_plan, review]}
  requirements: {persona: architect, prompt: r}
  design: {persona: architect, prompt: d, needs: [requirements]}
  implement: {persona: architect, prompt: i, needs: [design]}
  test_plan: {persona: architect, prompt: t, needs: [implement]}
  review: {persona: architect, prompt: r, needs: [implement]}
)");
    diagnostics diag;
    auto g = compile(spec, nullptr, diag);
    ASSERT_TRUE(g.has_value()) << diag.str();
    ASSERT_EQ(g->levels().size(), 5u);
    EXPECT_EQ(ids(*g, g->levels()[0]), (std::vector<std::string>{"requirements"}));
    EXPECT_EQ(ids(*g, g->levels()[3]), (std::vector<std::string>{"test_plan", "review"}));
    EXPECT_EQ(ids(*g, g->levels()[4]), (std::vector<std::string>{"docs"}));
    EXPECT_EQ(ids(*g, g->order()),
              (std::vector<std::string>{"requirements", "design", "implement", "test_plan", "review", "docs"}));
    EXPECT_EQ(g->level_of(*g->index_of("docs")), 4u);
    EXPECT_TRUE(g->is_upstream(*g->index_of("requirements"), *g->index_of("docs")));
    EXPECT_FALSE(g->is_upstream(*g->index_of("review"), *g->index_of("test_plan")));
    EXPECT_EQ(ids(*g, g->dependents(*g->index_of("implement"))), (std::vector<std::string>{"test_plan", "review"}));
}

TEST(compiler, reports_cycle_path)
{
    auto spec = load(R"(name: w
phases:
  a: {persona: architect, prompt: x, needs: [c]}
  b: {persona: architect, prompt: x, needs: [a]}
  c: {persona: architect, prompt: x, needs: [b]}
  d: {persona: architect, prompt: x, needs: [c]}
)");
    diagnostics diag;
    auto g = compile(spec, nullptr, diag);
    ASSERT_FALSE(g.has_value());
    EXPECT_EQ(g.error(), make_error_code(workflow_errc::cycle_detected));
    ASSERT_EQ(diag.size(), 1u);
    EXPECT_EQ(diag.items()[0].str(), "wf.yaml:3:3: dependency cycle: a -> b -> c -> a");
}

TEST(compiler, reports_each_independent_cycle_once)
{
    auto spec = load(R"(name: w
phases:
  a: {persona: architect, prompt: x, needs: [b]}
  b: {persona: architect, prompt: x, needs: [a]}
  c: {persona: architect, prompt: x, needs: [d]}
  d: {persona: architect, prompt: x, needs: [c]}
)");
    diagnostics diag;
    EXPECT_FALSE(compile(spec, nullptr, diag).has_value());
    ASSERT_EQ(diag.size(), 2u);
    EXPECT_EQ(diag.items()[0].message, "dependency cycle: a -> b -> a");
    EXPECT_EQ(diag.items()[1].message, "dependency cycle: c -> d -> c");
}

TEST(compiler, a_template_may_read_the_decision_fields_of_an_approval_gate)
{
    // A gate's json is always {approved, comment, by, at}: no `output: {format: json}` to ask for.
    auto spec = load(R"(name: w
phases:
  ship: {approval: {prompt: "Ship?"}}
  notes: {persona: architect, needs: [ship], prompt: "by {{ phases.ship.json.by }}: {{ phases.ship.json.comment }}"}
)");
    diagnostics diag;
    auto g = compile(spec, nullptr, diag);
    EXPECT_TRUE(g.has_value()) << diag.str();
    // A text phase still may not be read as JSON.
    auto text = load(R"(name: w
phases:
  a: {persona: architect, prompt: a}
  b: {persona: architect, needs: [a], prompt: "{{ phases.a.json.x }}"}
)");
    diagnostics diag2;
    EXPECT_FALSE(compile(text, nullptr, diag2).has_value());
    EXPECT_NE(diag2.str().find("phase 'a' has text output"), std::string::npos) << diag2.str();
}

TEST(compiler, large_chain_compiles)
{
    std::string yaml = "name: big\nphases:\n";
    for (int i = 0; i < 300; ++i)
    {
        yaml += "  p" + std::to_string(i) + ":\n    persona: architect\n    prompt: go\n";
        if (i)
            yaml += "    needs: [p" + std::to_string(i - 1) + "]\n";
    }
    auto spec = load(yaml);
    diagnostics diag;
    auto g = compile(spec, nullptr, diag);
    ASSERT_TRUE(g.has_value()) << diag.str();
    EXPECT_EQ(g->levels().size(), 300u);
    EXPECT_TRUE(g->is_upstream(0, 299));
}

TEST(compiler, shipped_sdlc_has_a_parallel_pair)
{
    diagnostics diag;
    auto spec = load_workflow_file(test::shipped_dir() / "sdlc.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    auto g = compile(*spec, nullptr, diag);
    ASSERT_TRUE(g.has_value()) << diag.str();
    ASSERT_EQ(g->levels().size(), 5u);
    EXPECT_EQ(ids(*g, g->levels()[3]), (std::vector<std::string>{"test_plan", "review"}));
}

}  // namespace
}  // namespace ep::engine
