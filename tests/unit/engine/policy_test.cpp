#include "engine_test_util.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/graph.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace ep::engine {
namespace {

policy load(const std::string& config, const ep::environment& env, const workflow_spec* wf = nullptr)
{
    diagnostics diag;
    policy_options opts;
    opts.workflows_dir = test::shipped_dir();
    opts.config = config;
    opts.workflow = wf;
    auto pol = load_policy(opts, env, diag);
    EXPECT_TRUE(pol.has_value()) << diag.str();
    return pol ? std::move(*pol) : policy{};
}

std::vector<std::string> providers_of(const std::vector<provider_preference>& prefs)
{
    std::vector<std::string> out;
    for (const auto& p : prefs)
        out.push_back(p.str());
    return out;
}

TEST(policy, shipped_files_load_with_seven_original_personas)
{
    auto pol = load("A", test::empty_env());
    for (const char* name : {"architect", "code_writer", "reviewer", "qa_engineer", "architect_openai",
                             "code_writer_openai", "reviewer_openai"})
        EXPECT_NE(pol.find_persona(name), nullptr) << name;
    EXPECT_EQ(pol.find_persona("architect")->provider_preferences.front().provider, "anthropic");
    EXPECT_EQ(pol.find_persona("reviewer_openai")->provider_preferences.front().provider, "openai");
    EXPECT_EQ(pol.find_persona("qa_engineer")->provider_preferences.front().provider, "openai");
    for (const char* name : {"anthropic", "openai", "gemini", "claude_code"})
        ASSERT_NE(pol.find_provider(name), nullptr) << name;
    EXPECT_EQ(pol.find_provider("claude_code")->type, "claude_agent");
    const auto& openai = *pol.find_provider("openai");
    EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
    EXPECT_EQ(openai.default_model().id, openai.models.front().id);
    EXPECT_GT(openai.default_model().context_window, 100000);
    EXPECT_TRUE(openai.default_model().price_known());
    EXPECT_GT(*openai.default_model().output_price_per_mtok, 0);
    // Every shipped model has a price, and the shipped personas name only catalogued models.
    for (const auto& [name, provider] : pol.providers)
        for (const auto& m : provider.models)
            EXPECT_TRUE(m.price_known() && m.in_catalogue) << name << "/" << m.id;
    EXPECT_TRUE(pol.warnings.empty()) << pol.warnings.str();
    EXPECT_EQ(pol.find_provider("anthropic")->timeouts.first_byte, std::chrono::seconds(60));
}

TEST(policy, every_mix_loads)
{
    for (const char* mix : {"A", "B", "C", "D", "E", "a", "e"})
    {
        auto pol = load(mix, test::empty_env());
        EXPECT_EQ(pol.mix.name, std::string(1, static_cast<char>(std::toupper(mix[0]))));
    }
}

TEST(policy, availability_comes_from_the_environment)
{
    auto env = ep::environment::from_map({{"EP_OPENAI_API_KEY", "sk-test-1234"},
                                          {"EP_GEMINI_BASE_URL", "http://127.0.0.1:9/"},
                                          {"PATH", "/nonexistent"}});
    auto pol = load("A", env);
    EXPECT_TRUE(pol.find_provider("openai")->available);
    EXPECT_EQ(pol.find_provider("openai")->api_key, "sk-test-1234");
    EXPECT_TRUE(pol.find_provider("gemini")->available);
    EXPECT_EQ(pol.find_provider("gemini")->base_url, "http://127.0.0.1:9/");
    EXPECT_FALSE(pol.find_provider("anthropic")->available);
    EXPECT_FALSE(pol.find_provider("claude_code")->available);
}

TEST(policy, claude_agent_is_available_with_cli_variable_or_on_path)
{
    auto with_var = load("A", ep::environment::from_map({{"EP_CLAUDE_CLI", "/opt/claude"}, {"PATH", "/nonexistent"}}));
    EXPECT_TRUE(with_var.find_provider("claude_code")->available);
    EXPECT_EQ(with_var.find_provider("claude_code")->cli_path, "/opt/claude");

    auto dir = std::filesystem::temp_directory_path() / "ep_policy_path_test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "claude") << "#!/bin/sh\n";
    auto on_path = load("A", ep::environment::from_map({{"PATH", "/nonexistent:" + dir.string()}}));
    EXPECT_TRUE(on_path.find_provider("claude_code")->available);
    EXPECT_EQ(on_path.find_provider("claude_code")->cli_path, (dir / "claude").string());
    std::filesystem::remove_all(dir);
}

TEST(policy, mixes_restrict_and_pin)
{
    auto env = test::empty_env();
    auto a = load("A", env);
    const auto& architect = *a.find_persona("architect");
    EXPECT_EQ(providers_of(a.effective_preferences(architect)), providers_of(architect.provider_preferences));
    EXPECT_EQ(a.effective_preferences(architect).front().provider, "anthropic");
    auto b = load("B", env);
    for (const auto& [name, persona] : b.personas)
        for (const auto& p : b.effective_preferences(persona))
            EXPECT_TRUE(p.provider == "anthropic" || p.provider == "claude_code") << name << " " << p.str();
    auto d = load("D", env);
    for (const auto& [name, persona] : d.personas)
        for (const auto& p : d.effective_preferences(persona))
            EXPECT_EQ(p.provider, "openai") << name;
    auto e = load("E", env);
    for (const auto& [name, persona] : e.personas)
    {
        auto prefs = e.effective_preferences(persona);
        EXPECT_FALSE(prefs.empty()) << name;
        for (const auto& p : prefs)
            EXPECT_TRUE(p.provider == "openai" || p.provider == "gemini") << name << " " << p.str();
    }
    auto c = load("C", env);
    EXPECT_EQ(c.effective_preferences(*c.find_persona("code_writer")).front().provider, "openai");
    EXPECT_EQ(c.effective_preferences(*c.find_persona("architect")).front().provider, "anthropic");
}

TEST(policy, inline_sections_merge_over_shipped)
{
    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
personas:
  architect:
    provider_preferences: [local/llama3]
  poet:
    provider_preferences: [{provider: openai, model: gpt-4.1-mini}]
    temperature: 1.2
providers:
  local:
    type: openai
    base_url: http://127.0.0.1:11434/v1
    base_url_env: EP_LOCAL_URL
    models: [{id: llama3, context_window: 8192}]
  openai:
    base_url: https://proxy.example/v1
phases:
  a: {persona: poet, prompt: hi}
)",
                                     "wf.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    auto pol = load("A", test::empty_env(), &*spec);
    EXPECT_EQ(providers_of(pol.find_persona("architect")->provider_preferences),
              (std::vector<std::string>{"local/llama3"}));
    // Fields not given keep the shipped values.
    EXPECT_FALSE(pol.find_persona("architect")->system.empty());
    EXPECT_EQ(pol.find_persona("poet")->temperature, 1.2);
    EXPECT_EQ(pol.find_provider("local")->models.at(0).context_window, 8192);
    EXPECT_EQ(pol.find_provider("openai")->base_url, "https://proxy.example/v1");
    EXPECT_EQ(pol.find_provider("openai")->api_key_env, "EP_OPENAI_API_KEY");
}

TEST(policy, first_token_timeout_and_type_options_are_read)
{
    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
providers:
  local:
    type: openai_responses
    base_url: http://127.0.0.1:8080/v1
    azure_api_version: '2025-04-01-preview'
    timeouts: {first_token: 12s}
    models: [{id: m}]
phases:
  a: {persona: architect, prompt: hi}
)",
                                     "wf.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    auto pol = load("A", test::empty_env(), &*spec);
    const auto* local = pol.find_provider("local");
    ASSERT_NE(local, nullptr);
    EXPECT_EQ(local->timeouts.first_token, std::chrono::seconds(12));
    EXPECT_EQ(local->azure_api_version, "2025-04-01-preview");
    EXPECT_EQ(pol.find_provider("openai")->timeouts.first_token, std::chrono::seconds(30)) << "the default";
}

TEST(policy, provider_limits_come_from_capabilities_and_inline_overrides)
{
    auto shipped = load("A", test::empty_env());
    ASSERT_TRUE(shipped.limits.count("claude_code"));
    EXPECT_EQ(shipped.limits.at("claude_code").max_concurrent, 4u);
    EXPECT_FALSE(shipped.limits.count("openai") && shipped.limits.at("openai").any());

    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
providers:
  openai:
    limits: {max_concurrent: 2, requests_per_minute: 60, tokens_per_minute: 90000}
  claude_code:
    limits: {requests_per_minute: 10}
phases:
  a: {persona: architect, prompt: hi}
)",
                                     "wf.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    auto pol = load("A", test::empty_env(), &*spec);
    const auto& openai = pol.limits.at("openai");
    EXPECT_EQ(openai.max_concurrent, 2u);
    EXPECT_EQ(openai.requests_per_minute, 60);
    EXPECT_EQ(openai.tokens_per_minute, 90000);
    // An inline section changes only the fields it names.
    EXPECT_EQ(pol.limits.at("claude_code").max_concurrent, 4u);
    EXPECT_EQ(pol.limits.at("claude_code").requests_per_minute, 10);
}

TEST(policy, provider_limits_are_schema_checked)
{
    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
providers:
  openai:
    limits: {max_concurent: 2}
phases:
  a: {persona: architect, prompt: hi}
)",
                                     "wf.yaml", diag);
    EXPECT_FALSE(spec.has_value());
    EXPECT_NE(diag.str().find("wf.yaml:4:"), std::string::npos) << diag.str();
    EXPECT_NE(diag.str().find("max_concurent"), std::string::npos) << diag.str();
}

TEST(policy, unknown_config_is_an_error)
{
    diagnostics diag;
    policy_options opts;
    opts.workflows_dir = test::shipped_dir();
    opts.config = "Z";
    EXPECT_FALSE(load_policy(opts, test::empty_env(), diag).has_value());
    ASSERT_EQ(diag.size(), 1u);
    EXPECT_EQ(diag.items()[0].str(), "unknown config 'Z' (expected A, B, C, D, E or the path of a mix file)");
}

TEST(policy, bad_mix_file_reports_located_errors)
{
    auto dir = std::filesystem::temp_directory_path() / "ep_policy_mix_test";
    std::filesystem::create_directories(dir);
    auto path = dir / "mix.yaml";
    std::ofstream(path) << "name: X\nproviders: [openai, gemni]\npersonas:\n  architekt: openai\n  reviewer: openai/gpt-9\n";
    diagnostics diag;
    policy_options opts;
    opts.workflows_dir = test::shipped_dir();
    opts.config = path.string();
    EXPECT_FALSE(load_policy(opts, test::empty_env(), diag).has_value());
    diag.sort();
    ASSERT_EQ(diag.size(), 2u) << diag.str();
    EXPECT_EQ(diag.items()[0].str(), path.string() + ":2:21: unknown provider 'gemni' (did you mean 'gemini'?)");
    EXPECT_EQ(diag.items()[1].str(), path.string() + ":4:3: unknown persona 'architekt' (did you mean 'architect'?)");
    // A model outside the catalogue is not an error (see unlisted_models_are_accepted_with_a_warning).
    EXPECT_EQ(diag.str().find("gpt-9"), std::string::npos) << diag.str();
    std::filesystem::remove_all(dir);
}

TEST(policy, durations_parse)
{
    EXPECT_EQ(parse_duration("1500ms"), std::chrono::milliseconds(1500));
    EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
    EXPECT_EQ(parse_duration("2.5s"), std::chrono::milliseconds(2500));
    EXPECT_EQ(parse_duration("5m"), std::chrono::minutes(5));
    EXPECT_EQ(parse_duration("1h"), std::chrono::hours(1));
    EXPECT_FALSE(parse_duration("5"));
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("5x"));
    EXPECT_FALSE(parse_duration("-5s"));
}

TEST(policy, find_workflows_dir_prefers_ep_home)
{
    auto env = ep::environment::from_map({{"EP_HOME", test::source_dir().string()}});
    EXPECT_EQ(find_workflows_dir(env), std::filesystem::weakly_canonical(test::shipped_dir()));
    auto fallback = find_workflows_dir(ep::environment::from_map({{"EP_HOME", "/nonexistent"}}));
    EXPECT_TRUE(std::filesystem::exists(fallback / "personas.yaml"));
}

}  // namespace
}  // namespace ep::engine
