// Bring-your-own models and providers: unlisted models, inline providers merging into the
// shipped ones, `auth: none`, strict checks only for the personas a workflow uses, phase
// `model:` resolution, and the request-feature keys (reasoning, cache, on_content_filter).
#include "engine_test_util.hpp"

#include <ep/engine/error.hpp>

#include <gtest/gtest.h>

namespace ep::engine {
namespace {

struct loaded
{
    std::optional<workflow_spec> spec;
    boost::system::result<policy> pol = make_error_code(workflow_errc::invalid_config);
    diagnostics diag;
};

loaded load_with(const std::string& yaml, const ep::environment& env = test::empty_env(), const std::string& mix = "A")
{
    loaded out;
    auto spec = load_workflow_string(yaml, "wf.yaml", out.diag);
    if (!spec)
        return out;
    out.spec = std::move(*spec);
    policy_options opts;
    opts.workflows_dir = test::shipped_dir();
    opts.config = mix;
    opts.workflow = &*out.spec;
    out.pol = load_policy(opts, env, out.diag);
    return out;
}

TEST(policy_byo, unlisted_models_are_accepted_with_a_located_warning)
{
    auto r = load_with(R"(name: w
personas:
  local_writer:
    provider_preferences: [openai/llama3.1, {provider: anthropic, model: claude-next}]
phases:
  a: {persona: local_writer, prompt: hi}
  b: {persona: architect, prompt: hi, model: gemini/gemini-9-ultra}
)");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    const auto w = r.pol->warnings.str();
    EXPECT_NE(w.find("wf.yaml:4:28: openai/llama3.1 is not in the catalogue: default limits, price unknown"),
              std::string::npos)
        << w;
    EXPECT_NE(w.find("anthropic/claude-next is not in the catalogue"), std::string::npos) << w;
    EXPECT_NE(w.find("wf.yaml:7:46: gemini/gemini-9-ultra is not in the catalogue"), std::string::npos) << w;
    // The catalogue itself is untouched.
    EXPECT_EQ(r.pol->find_provider("openai")->find_model("llama3.1"), nullptr);
}

TEST(policy_byo, a_typo_in_an_unlisted_model_gets_a_suggestion)
{
    auto r = load_with(R"(name: w
phases:
  a: {persona: architect, prompt: hi, model: openai/gpt-6.2-soll}
)");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    EXPECT_NE(r.pol->warnings.str().find("(did you mean 'gpt-6.2-sol'?)"), std::string::npos) << r.pol->warnings.str();
}

TEST(policy_byo, inline_providers_merge_models_by_id_and_keep_the_rest)
{
    const auto shipped = load_with("name: w\nphases:\n  a: {persona: architect, prompt: hi}\n");
    ASSERT_TRUE(shipped.pol.has_value());
    const auto& base = *shipped.pol->find_provider("openai");
    const auto& first = base.models.front();

    auto r = load_with("name: w\nproviders:\n  openai:\n    base_url: http://127.0.0.1:8000/v1\n    models:\n"
                       "      - {id: llama3.1, context_window: 32000}\n"
                       "      - {id: " + first.id + ", price: {input: 0.5}}\n"
                       "phases:\n  a: {persona: architect, prompt: hi}\n");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    const auto& merged = *r.pol->find_provider("openai");
    ASSERT_EQ(merged.models.size(), base.models.size() + 1);
    EXPECT_EQ(merged.default_model().id, first.id);  // added models go after the shipped ones
    EXPECT_EQ(merged.find_model("llama3.1")->context_window, 32000);
    // Replaced field by field: the input price changes, the rest stays.
    EXPECT_EQ(merged.find_model(first.id)->input_price_per_mtok, 0.5);
    EXPECT_EQ(merged.find_model(first.id)->output_price_per_mtok, first.output_price_per_mtok);
    EXPECT_EQ(merged.find_model(first.id)->context_window, first.context_window);
    // Other fields are overridden; what is not named keeps the shipped value.
    EXPECT_EQ(merged.base_url, "http://127.0.0.1:8000/v1");
    EXPECT_EQ(merged.api_key_env, base.api_key_env);
    // The shipped personas that name shipped OpenAI models still load (no error above), and
    // nothing warns: every model they name is still listed.
    EXPECT_TRUE(r.pol->warnings.empty()) << r.pol->warnings.str();
}

TEST(policy_byo, a_model_listed_inline_has_no_price_unless_given)
{
    auto r = load_with(R"(name: w
providers:
  openai:
    models: [{id: llama3.1}]
phases:
  a: {persona: architect, prompt: hi, model: openai/llama3.1}
)");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    const auto* m = r.pol->find_provider("openai")->find_model("llama3.1");
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->in_catalogue);
    EXPECT_FALSE(m->price_known());
    EXPECT_TRUE(r.pol->warnings.empty()) << r.pol->warnings.str();
}

TEST(policy_byo, auth_none_needs_no_key_and_sends_none)
{
    auto env = test::empty_env();
    env.set("EP_OPENAI_API_KEY", "sk-should-not-be-sent");
    auto r = load_with(R"(name: w
providers:
  ollama:
    type: openai
    base_url: http://127.0.0.1:11434/v1
    auth: none
    models: [{id: llama3.1}]
  vllm:
    type: openai
    base_url: http://127.0.0.1:8000/v1
    models: [{id: qwen3}]
  keyed:
    type: openai
    base_url: http://127.0.0.1:8080/v1
    api_key_env: EP_KEYED_KEY
    models: [{id: m}]
  openai:
    base_url: http://127.0.0.1:9999/v1
    auth: none
phases:
  a: {persona: architect, prompt: hi}
)",
                       env);
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    const auto& ollama = *r.pol->find_provider("ollama");
    EXPECT_TRUE(ollama.available);
    EXPECT_TRUE(ollama.api_key.empty());
    // No api_key_env at all: a base URL is enough too.
    EXPECT_TRUE(r.pol->find_provider("vllm")->available);
    // A provider that names a key variable still needs it.
    EXPECT_FALSE(r.pol->find_provider("keyed")->available);
    // `auth: none` over a shipped provider: available at the new URL, and the key is not used.
    const auto& openai = *r.pol->find_provider("openai");
    EXPECT_TRUE(openai.available);
    EXPECT_TRUE(openai.api_key.empty());
    // Without auth: none the shipped provider takes the key as before.
    EXPECT_EQ(r.pol->find_provider("anthropic")->available, false);
}

TEST(policy_byo, auth_none_over_a_shipped_provider_keeps_its_base_url)
{
    auto r = load_with(R"(name: w
providers:
  gemini:
    auth: none
    base_url_env: EP_GEMINI_LOCAL
phases:
  a: {persona: architect, prompt: hi}
)");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    // The shipped base URL is still there, so the provider is available without a key.
    EXPECT_TRUE(r.pol->find_provider("gemini")->available);
    EXPECT_EQ(r.pol->find_provider("gemini")->base_url, "https://generativelanguage.googleapis.com/v1beta");
}

TEST(policy_byo, a_broken_persona_the_workflow_does_not_use_only_warns)
{
    const std::string personas = R"(personas:
  broken:
    provider_preferences: [nowhere/x]
)";
    auto unused = load_with("name: w\n" + personas + "phases:\n  a: {persona: architect, prompt: hi}\n");
    ASSERT_TRUE(unused.pol.has_value()) << unused.diag.str();
    EXPECT_NE(unused.pol->warnings.str().find("wf.yaml:4:28: unknown provider 'nowhere'"), std::string::npos)
        << unused.pol->warnings.str();
    EXPECT_NE(unused.pol->warnings.str().find("persona 'broken' is not used by this workflow"), std::string::npos);

    auto used = load_with("name: w\n" + personas + "phases:\n  a: {persona: broken, prompt: hi}\n");
    EXPECT_FALSE(used.pol.has_value());
    EXPECT_NE(used.diag.str().find("wf.yaml:4:28: unknown provider 'nowhere'"), std::string::npos) << used.diag.str();
}

TEST(policy_byo, phase_models_must_resolve)
{
    auto r = load_with(R"(name: w
phases:
  a: {persona: architect, prompt: hi, model: nowhere/x}
  b: {persona: architect, prompt: hi, model: llama-unknown}
  c: {persona: architect, prompt: hi, model: claude-haiku-4-5}
)");
    EXPECT_FALSE(r.pol.has_value());
    const auto d = r.diag.str();
    EXPECT_NE(d.find("wf.yaml:3:46: phase 'a': unknown provider 'nowhere'"), std::string::npos) << d;
    EXPECT_NE(d.find("wf.yaml:4:46: phase 'b': no provider lists model 'llama-unknown'; write it as PROVIDER/MODEL"),
              std::string::npos)
        << d;
    EXPECT_EQ(d.find("phase 'c'"), std::string::npos) << d;  // a catalogued bare model is fine

    // `defaults: {model:}` is located at its own line.
    auto defaults = load_with("name: w\ndefaults: {model: nowhere/x}\nphases:\n  a: {persona: architect, prompt: hi}\n");
    EXPECT_NE(defaults.diag.str().find("wf.yaml:2:19: phase 'a': unknown provider 'nowhere'"), std::string::npos)
        << defaults.diag.str();
}

TEST(policy_byo, request_features_are_loaded_from_personas_phases_and_defaults)
{
    auto r = load_with(R"(name: w
defaults:
  reasoning: {effort: low}
  on_content_filter: fallback
personas:
  thinker:
    provider_preferences: [openai]
    reasoning: {effort: high}
    cache: true
    on_content_filter: fail
phases:
  a: {persona: thinker, prompt: hi}
  b: {persona: thinker, prompt: hi, reasoning: {effort: medium}, cache: false, on_content_filter: fail}
  c: {persona: architect, prompt: hi}
)");
    ASSERT_TRUE(r.pol.has_value()) << r.diag.str();
    const auto& thinker = *r.pol->find_persona("thinker");
    EXPECT_EQ(thinker.reasoning, reasoning_effort::high);
    EXPECT_EQ(thinker.cache, true);
    EXPECT_EQ(thinker.on_content_filter, content_filter_action::fail);

    const auto& a = *r.spec->find_phase("a");
    const auto& b = *r.spec->find_phase("b");
    const auto& c = *r.spec->find_phase("c");
    EXPECT_EQ(a.reasoning, reasoning_effort::low);  // from defaults
    EXPECT_EQ(a.on_content_filter, content_filter_action::fallback);
    EXPECT_FALSE(a.cache.has_value());
    EXPECT_EQ(b.reasoning, reasoning_effort::medium);
    EXPECT_EQ(b.cache, false);
    EXPECT_EQ(b.on_content_filter, content_filter_action::fail);

    // The phase (or its defaults) wins over the persona; the persona fills what the phase leaves.
    const auto fa = resolve_request_features(a, &thinker);
    EXPECT_EQ(fa.reasoning, reasoning_effort::low);
    EXPECT_EQ(fa.cache, true);
    EXPECT_EQ(fa.on_content_filter, content_filter_action::fallback);
    const auto fb = resolve_request_features(b, &thinker);
    EXPECT_EQ(fb.cache, false);
    // Nothing set anywhere: the provider's defaults, and a refusal fails the phase.
    phase_spec bare;
    const auto none = resolve_request_features(bare, r.pol->find_persona("architect"));
    EXPECT_FALSE(none.reasoning.has_value());
    EXPECT_FALSE(none.cache.has_value());
    EXPECT_EQ(none.on_content_filter, content_filter_action::fail);
    EXPECT_EQ(resolve_request_features(c, nullptr).reasoning, reasoning_effort::low);
    EXPECT_EQ(std::string_view(to_string(reasoning_effort::high)), "high");
    EXPECT_EQ(to_string(content_filter_action::fallback), "fallback");
}

TEST(policy_byo, bad_request_feature_values_are_located_errors)
{
    const auto errors = test::validate_text(R"(name: w
personas:
  p:
    provider_preferences: [openai]
    reasoning: {effort: extreme}
phases:
  a: {persona: p, prompt: hi, cache: "yes", on_content_filter: ignore}
  b: {persona: p, prompt: hi, reasoning: high}
)");
    EXPECT_EQ(errors, (std::vector<std::string>{
                          "5:25: invalid value 'extreme' for 'effort' (expected one of: low, medium, high)",
                          "7:38: 'cache' must be a boolean, got a string",
                          "7:64: invalid value 'ignore' for 'on_content_filter' (expected one of: fail, fallback)",
                          "8:42: 'reasoning' must be a mapping, got a string",
                      }));
}

}  // namespace
}  // namespace ep::engine
