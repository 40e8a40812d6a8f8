// Every shipped mix (A–E) against every shipped workflow, with every provider available: the
// persona → provider table documented by the mix files, and the --explain rendering.
#include <ep/engine/dag.hpp>
#include <ep/engine/loader.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/router.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace ep::engine;

const fs::path workflows_dir = fs::path(EP_SOURCE_DIR) / "workflows";

/// Dummy credentials for every shipped provider: nothing is ever called.
ep::environment all_available()
{
    return ep::environment::from_map({{"EP_ANTHROPIC_API_KEY", "test-anthropic"},
                                      {"EP_OPENAI_API_KEY", "test-openai"},
                                      {"EP_GEMINI_API_KEY", "test-gemini"},
                                      {"EP_CLAUDE_CLI", "/bin/true"}});
}

policy load(const std::string& mix, const ep::environment& env, const workflow_spec* wf = nullptr)
{
    policy_options opts;
    opts.workflows_dir = workflows_dir;
    opts.config = mix;
    opts.workflow = wf;
    diagnostics diag;
    auto pol = load_policy(opts, env, diag);
    if (!pol)
        ADD_FAILURE() << "load_policy(" << mix << ") failed";
    return pol ? std::move(*pol) : policy{};
}

/// The chosen provider per persona, as the mix files and personas.yaml document it. (The model is
/// checked against the first preference, so the table does not restate the catalogue.)
const std::map<std::string, std::map<std::string, std::string>> expected_choice = {
    {"A",
     {{"requirements_analyst", "anthropic"},
      {"architect", "anthropic"},
      {"code_writer", "anthropic"},
      {"reviewer", "anthropic"},
      {"qa_engineer", "openai"},
      {"documentation_writer", "openai"},
      {"architect_openai", "openai"},
      {"code_writer_openai", "openai"},
      {"reviewer_openai", "openai"}}},
    {"B",
     {{"requirements_analyst", "anthropic"},
      {"architect", "anthropic"},
      {"code_writer", "anthropic"},
      {"reviewer", "anthropic"},
      {"qa_engineer", "anthropic"},
      {"documentation_writer", "anthropic"},
      {"architect_openai", "anthropic"},
      {"code_writer_openai", "anthropic"},
      {"reviewer_openai", "anthropic"}}},
    {"C",
     {{"requirements_analyst", "anthropic"},
      {"architect", "anthropic"},
      {"code_writer", "openai"},
      {"reviewer", "anthropic"},
      {"qa_engineer", "openai"},
      {"documentation_writer", "gemini"}}},
    {"D",
     {{"requirements_analyst", "openai"},
      {"architect", "openai"},
      {"code_writer", "openai"},
      {"reviewer", "openai"},
      {"qa_engineer", "openai"},
      {"documentation_writer", "openai"}}},
    {"E",
     {{"requirements_analyst", "gemini"},
      {"architect", "gemini"},
      {"code_writer", "openai"},
      {"reviewer", "gemini"},
      {"qa_engineer", "openai"},
      {"documentation_writer", "gemini"}}},
};

/// Providers each mix may use at all (empty: any).
const std::map<std::string, std::set<std::string>> mix_providers = {
    {"A", {}}, {"B", {"anthropic", "claude_code"}}, {"C", {}}, {"D", {"openai"}}, {"E", {"openai", "gemini"}}};

TEST(router_mixes, every_persona_routes_as_documented)
{
    const auto env = all_available();
    for (const auto& [mix, table] : expected_choice)
    {
        const auto pol = load(mix, env);
        const router r(pol);
        for (const auto& [persona, chosen] : table)
        {
            route_request req;
            req.persona = persona;
            req.prompt_tokens = 2000;
            const auto plan = r.route(req);
            ASSERT_TRUE(plan.ok()) << mix << " " << persona << ": " << plan.error_message;
            EXPECT_EQ(plan.candidates.front().provider, chosen) << "mix " << mix << " persona " << persona;
            // The documented model: the first preference's, and the shipped files name only
            // models the catalogue lists.
            const auto prefs = pol.effective_preferences(*pol.find_persona(persona));
            EXPECT_EQ(plan.candidates.front().str(), prefs.front().str()) << "mix " << mix << " persona " << persona;
            EXPECT_TRUE(plan.candidates.front().info.in_catalogue) << plan.candidates.front().str();
            EXPECT_TRUE(plan.candidates.front().info.price_known()) << plan.candidates.front().str();
            const auto& allowed = mix_providers.at(mix);
            for (const auto& c : plan.candidates)
                EXPECT_TRUE(allowed.empty() || allowed.count(c.provider))
                    << "mix " << mix << " persona " << persona << " kept " << c.str();
        }
    }
}

TEST(router_mixes, fallback_order_follows_preferences)
{
    const auto pol = load("A", all_available());
    route_request req;
    req.persona = "architect";
    const auto plan = router(pol).route(req);
    ASSERT_TRUE(plan.ok());
    const auto& prefs = pol.find_persona("architect")->provider_preferences;
    ASSERT_EQ(plan.candidates.size(), prefs.size());
    for (std::size_t i = 0; i < prefs.size(); ++i)
        EXPECT_EQ(plan.candidates[i].str(), prefs[i].str());
    EXPECT_EQ(plan.candidates[0].provider, "anthropic");
    EXPECT_EQ(plan.candidates[1].provider, "claude_code");
    EXPECT_EQ(plan.candidates[2].provider, "openai");
    // The candidate carries the catalogue entry of its model.
    EXPECT_EQ(plan.candidates[0].info.context_window,
              pol.find_provider("anthropic")->find_model(prefs[0].model)->context_window);

    // Mix B keeps the persona's own list but drops what the mix does not allow, saying so.
    const auto pol_b = load("B", all_available());
    req.persona = "requirements_analyst";
    const auto plan_b = router(pol_b).route(req);
    ASSERT_TRUE(plan_b.ok());
    ASSERT_EQ(plan_b.candidates.size(), 1u);
    ASSERT_EQ(plan_b.dropped.size(), 2u);
    EXPECT_EQ(plan_b.dropped[0].kind, drop_kind::not_in_mix);
    EXPECT_EQ(plan_b.dropped[0].provider, "openai");
    EXPECT_NE(plan_b.dropped[0].reason.find("not in mix B"), std::string::npos);
    EXPECT_EQ(plan_b.dropped[1].provider, "gemini");
}

TEST(router_mixes, every_shipped_workflow_is_routable_under_every_mix)
{
    const auto env = all_available();
    int workflows = 0;
    for (const auto& entry : fs::directory_iterator(workflows_dir))
    {
        if (entry.path().extension() != ".yaml" || entry.path().filename() == "personas.yaml" ||
            entry.path().filename() == "capabilities.yaml")
            continue;
        diagnostics diag;
        auto wf = load_workflow_file(entry.path(), diag);
        ASSERT_TRUE(wf) << entry.path();
        ++workflows;
        for (const auto& [mix, table] : expected_choice)
        {
            const auto pol = load(mix, env, &*wf);
            auto graph = compile(*wf, &pol, diag);
            ASSERT_TRUE(graph) << entry.path() << " mix " << mix;
            const auto explanation = explain_routing(*wf, *graph, pol, env);
            ASSERT_EQ(explanation.phases.size(), wf->phases.size());
            EXPECT_TRUE(explanation.all_routable()) << entry.path() << " mix " << mix;
            for (const auto& row : explanation.phases)
            {
                if (row.gate || !row.command.empty())
                    continue;  // an approval gate asks a person, a command runs a program: no provider
                ASSERT_TRUE(row.plan.ok()) << row.plan.error_message;
                ASSERT_TRUE(table.count(row.persona)) << "no documented choice for " << row.persona;
                EXPECT_EQ(row.plan.candidates.front().provider, table.at(row.persona))
                    << entry.path().filename() << " mix " << mix << " phase " << row.phase;
            }
        }
    }
    EXPECT_GE(workflows, 2);
}

TEST(router_mixes, explain_lists_run_order_chosen_kept_and_dropped)
{
    // Only OpenAI has a key: the others are dropped and the text names the variable to set.
    const auto env = ep::environment::from_map({{"EP_OPENAI_API_KEY", "k"}, {"PATH", "/nonexistent"}});
    diagnostics diag;
    auto wf = load_workflow_file(workflows_dir / "sdlc.yaml", diag);
    ASSERT_TRUE(wf);
    const auto pol = load("A", env, &*wf);
    auto graph = compile(*wf, &pol, diag);
    ASSERT_TRUE(graph);
    const auto e = explain_routing(*wf, *graph, pol, env);
    ASSERT_EQ(e.phases.size(), 6u);
    EXPECT_EQ(e.phases[0].phase, "requirements");
    EXPECT_EQ(e.phases[0].run_position, 1u);
    EXPECT_EQ(e.phases.back().phase, "docs");
    EXPECT_EQ(e.phases[1].plan.candidates.front().provider, "openai");  // architect

    std::ostringstream text;
    write_routing_explanation(text, e);
    const auto s = text.str();
    EXPECT_NE(s.find("mix A"), std::string::npos);
    EXPECT_NE(s.find("1. requirements"), std::string::npos);
    EXPECT_NE(s.find("chosen    openai/"), std::string::npos);
    EXPECT_NE(s.find("unavailable: set EP_ANTHROPIC_API_KEY or EP_ANTHROPIC_BASE_URL"), std::string::npos);
    EXPECT_NE(s.find("unavailable: set EP_CLAUDE_CLI"), std::string::npos);
    EXPECT_LT(s.find("1. requirements"), s.find("2. design"));
    EXPECT_LT(s.find("2. design"), s.find("6. docs"));
    // The text never carries a secret.
    EXPECT_EQ(s.find("test-"), std::string::npos);
}

TEST(router_mixes, explain_reports_an_unroutable_phase)
{
    const auto env = ep::environment::from_map({{"PATH", "/nonexistent"}});
    diagnostics diag;
    auto wf = load_workflow_file(workflows_dir / "design-implement-review.yaml", diag);
    ASSERT_TRUE(wf);
    const auto pol = load("D", env, &*wf);
    auto graph = compile(*wf, &pol, diag);
    ASSERT_TRUE(graph);
    const auto e = explain_routing(*wf, *graph, pol, env);
    EXPECT_FALSE(e.all_routable());
    std::ostringstream text;
    write_routing_explanation(text, e);
    EXPECT_NE(text.str().find("UNROUTABLE: persona 'architect' cannot be routed"), std::string::npos) << text.str();
    EXPECT_NE(text.str().find("set EP_OPENAI_API_KEY or EP_OPENAI_BASE_URL"), std::string::npos);
}

}  // namespace
