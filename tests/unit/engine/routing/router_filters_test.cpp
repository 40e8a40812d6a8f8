// The router's filters on a hand-built policy: availability, capabilities, context window,
// EP_DEFAULT_PROVIDER, model overrides, open circuits and unroutable errors.
#include <ep/engine/router.hpp>
#include <ep/engine/routing/circuit_breaker.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using namespace ep::engine;
namespace pv = ep::providers;

pv::model_info model(std::string id, std::int64_t window, std::set<std::string> caps = {})
{
    pv::model_info m;
    m.id = std::move(id);
    m.context_window = window;
    m.capabilities = std::move(caps);
    return m;
}

pv::provider_config provider(std::string name, std::set<std::string> caps, std::vector<pv::model_info> models,
                             bool available = true)
{
    pv::provider_config p;
    p.type = name == "cli" ? "claude_agent" : "openai";
    p.name = name;
    p.capabilities = std::move(caps);
    p.models = std::move(models);
    p.available = available;
    for (auto& c : name)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    p.api_key_env = "EP_" + name + "_API_KEY";
    p.base_url_env = "EP_" + name + "_BASE_URL";
    return p;
}

/// alpha: small and large window, tools; beta: json_mode, no tools; gamma: unavailable.
policy make_policy()
{
    policy pol;
    pol.providers["alpha"] = provider("alpha", {"system_prompt", "tools"},
                                      {model("a-small", 8000), model("a-mid", 32000), model("a-large", 200000)});
    pol.providers["beta"] = provider("beta", {"system_prompt", "json_mode"},
                                     {model("b-1", 100000, {"long_context"})});
    pol.providers["gamma"] = provider("gamma", {"system_prompt", "tools"}, {model("g-1", 100000)}, false);
    pol.providers["cli"] = provider("cli", {"system_prompt"}, {model("sonnet", 100000)}, false);

    persona_spec writer;
    writer.name = "writer";
    writer.requires_capabilities = {"system_prompt"};
    writer.provider_preferences = {{"gamma", "", {}}, {"alpha", "a-small", {}}, {"beta", "", {}}};
    pol.personas["writer"] = writer;

    persona_spec plain;
    plain.name = "plain";
    pol.personas["plain"] = plain;

    persona_spec needs_long;
    needs_long.name = "needs_long";
    needs_long.requires_capabilities = {"long_context"};
    needs_long.provider_preferences = {{"alpha", "", {}}, {"beta", "", {}}};
    pol.personas["needs_long"] = needs_long;

    persona_spec only_gamma;
    only_gamma.name = "only_gamma";
    only_gamma.provider_preferences = {{"gamma", "", {}}, {"cli", "", {}}};
    pol.personas["only_gamma"] = only_gamma;
    return pol;
}

route_request req(std::string persona, std::int64_t tokens = 1000)
{
    route_request r;
    r.persona = std::move(persona);
    r.prompt_tokens = tokens;
    return r;
}

std::vector<std::string> chosen(const route_plan& plan)
{
    std::vector<std::string> out;
    for (const auto& c : plan.candidates)
        out.push_back(c.str());
    return out;
}

const dropped_candidate* find_drop(const route_plan& plan, const std::string& provider, const std::string& model = {})
{
    for (const auto& d : plan.dropped)
        if (d.provider == provider && (model.empty() || d.model == model))
            return &d;
    return nullptr;
}

TEST(router_filters, unavailable_provider_is_dropped_naming_the_variables)
{
    const auto pol = make_policy();
    const auto plan = router(pol).route(req("writer"));
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(chosen(plan), (std::vector<std::string>{"alpha/a-small", "beta/b-1"}));
    const auto* d = find_drop(plan, "gamma");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->kind, drop_kind::unavailable);
    EXPECT_EQ(d->reason, "unavailable: set EP_GAMMA_API_KEY or EP_GAMMA_BASE_URL");
}

TEST(router_filters, missing_required_capability_is_dropped)
{
    const auto pol = make_policy();
    auto r = req("writer");
    r.capabilities = {"tools"};
    const auto plan = router(pol).route(r);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(chosen(plan), (std::vector<std::string>{"alpha/a-small"}));
    const auto* d = find_drop(plan, "beta");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->kind, drop_kind::missing_capability);
    EXPECT_EQ(d->reason, "missing capability tools");

    // Persona requirements count as well, and a model's own capabilities add to its provider's.
    const auto plan2 = router(pol).route(req("needs_long"));
    ASSERT_TRUE(plan2.ok());
    EXPECT_EQ(chosen(plan2), (std::vector<std::string>{"beta/b-1"}));
    EXPECT_EQ(find_drop(plan2, "alpha")->reason, "missing capability long_context");
}

TEST(router_filters, json_mode_is_emulated_and_never_drops)
{
    const auto pol = make_policy();
    auto r = req("writer");
    r.capabilities = {"json_mode"};
    const auto plan = router(pol).route(r);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(chosen(plan), (std::vector<std::string>{"alpha/a-small", "beta/b-1"}));
    EXPECT_NE(plan.candidates[0].reason.find("json_mode emulated by prompt"), std::string::npos);
    EXPECT_EQ(plan.candidates[1].reason.find("emulated"), std::string::npos);
}

TEST(router_filters, small_window_moves_to_the_providers_larger_model)
{
    const auto pol = make_policy();
    auto r = req("writer", 20000);
    const auto plan = router(pol).route(r);
    ASSERT_TRUE(plan.ok());
    // a-small (8000) too small; a-mid (32000) is the first larger model that fits.
    EXPECT_EQ(chosen(plan), (std::vector<std::string>{"alpha/a-mid", "beta/b-1"}));
    const auto* d = find_drop(plan, "alpha", "a-small");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->kind, drop_kind::context_too_small);
    EXPECT_EQ(d->reason, "context window 8000 < needed 20000");
    EXPECT_EQ(plan.candidates[0].reason, "larger context window than a-small");

    // Reserved output counts: 20000 + 15000 > 32000.
    r.max_output_tokens = 15000;
    const auto plan2 = router(pol).route(r);
    EXPECT_EQ(chosen(plan2), (std::vector<std::string>{"alpha/a-large", "beta/b-1"}));
    EXPECT_EQ(plan2.needed_tokens, 35000);

    // Nothing is large enough: unroutable, and the message says why.
    const auto plan3 = router(pol).route(req("writer", 500000));
    EXPECT_FALSE(plan3.ok());
    EXPECT_EQ(plan3.ec, router_errc::unroutable);
    EXPECT_NE(plan3.error_message.find("beta/b-1: context window 100000 < needed 500000"), std::string::npos);
}

TEST(router_filters, default_provider_serves_personas_without_preferences)
{
    auto pol = make_policy();
    const auto plan = router(pol, std::string("beta")).route(req("plain"));
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan.candidates.front().str(), "beta/b-1");
    EXPECT_EQ(plan.candidates.front().reason, "EP_DEFAULT_PROVIDER");

    // Without it: every provider, the unavailable ones dropped.
    const auto plain = router(pol).route(req("plain"));
    EXPECT_EQ(chosen(plain), (std::vector<std::string>{"alpha/a-small", "beta/b-1"}));

    // A persona that states providers ignores EP_DEFAULT_PROVIDER.
    EXPECT_EQ(router(pol, std::string("beta")).route(req("writer")).candidates.front().str(), "alpha/a-small");

    // Not allowed by the mix: dropped with the reason, the mix's providers are used.
    pol.mix.name = "M";
    pol.mix.allowed_providers = {"alpha"};
    const auto restricted = router(pol, std::string("beta")).route(req("plain"));
    ASSERT_TRUE(restricted.ok());
    EXPECT_EQ(chosen(restricted), (std::vector<std::string>{"alpha/a-small"}));
    ASSERT_NE(find_drop(restricted, "beta"), nullptr);
    EXPECT_EQ(find_drop(restricted, "beta")->reason, "not in mix M (EP_DEFAULT_PROVIDER)");

    // Read from the environment; an empty value counts as unset.
    EXPECT_EQ(router::from_environment(make_policy(), ep::environment::from_map({{"EP_DEFAULT_PROVIDER", "beta"}}))
                  .route(req("plain"))
                  .candidates.front()
                  .provider,
              "beta");
}

TEST(router_filters, a_phase_without_persona_uses_the_default_provider)
{
    const auto pol = make_policy();
    const auto plan = router(pol, std::string("beta")).route(req(""));
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan.candidates.front().str(), "beta/b-1");
}

TEST(router_filters, model_override)
{
    const auto pol = make_policy();
    auto r = req("writer");
    r.model_override = "a-large";  // bare: replaces alpha's preferred model only
    EXPECT_EQ(chosen(router(pol).route(r)), (std::vector<std::string>{"alpha/a-large", "beta/b-1"}));
    r.model_override = "beta/b-1";  // pinned first
    EXPECT_EQ(chosen(router(pol).route(r)), (std::vector<std::string>{"beta/b-1", "alpha/a-small"}));
}

TEST(router_filters, open_circuit_is_skipped)
{
    const auto pol = make_policy();
    circuit_breaker_config cfg;
    cfg.consecutive_failures_to_open = 1;
    circuit_registry circuits(cfg);
    auto breaker = circuits.get("alpha", "a-small");
    ASSERT_TRUE(breaker->allow());
    breaker->record_failure();
    ASSERT_TRUE(breaker->is_open());

    auto r = req("writer");
    r.circuits = &circuits;
    const auto plan = router(pol).route(r);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(chosen(plan), (std::vector<std::string>{"beta/b-1"}));
    ASSERT_NE(find_drop(plan, "alpha", "a-small"), nullptr);
    EXPECT_EQ(find_drop(plan, "alpha", "a-small")->kind, drop_kind::circuit_open);

    // Without the registry the circuit is not consulted.
    r.circuits = nullptr;
    EXPECT_EQ(router(pol).route(r).candidates.front().str(), "alpha/a-small");
}

TEST(router_filters, unroutable_persona_names_what_to_set)
{
    const auto pol = make_policy();
    const auto plan = router(pol).route(req("only_gamma"));
    EXPECT_FALSE(plan.ok());
    EXPECT_EQ(plan.ec, router_errc::unroutable);
    EXPECT_TRUE(plan.candidates.empty());
    EXPECT_NE(plan.error_message.find("persona 'only_gamma' cannot be routed"), std::string::npos);
    EXPECT_NE(plan.error_message.find("set EP_GAMMA_API_KEY or EP_GAMMA_BASE_URL"), std::string::npos);
    EXPECT_NE(plan.error_message.find("set EP_CLAUDE_CLI"), std::string::npos);
    EXPECT_EQ(std::string(plan.ec.category().name()), "ep.router");
}

TEST(router_filters, unknown_persona_is_an_error)
{
    const auto pol = make_policy();
    const auto plan = router(pol).route(req("nobody"));
    EXPECT_EQ(plan.ec, router_errc::unknown_persona);
    EXPECT_NE(plan.error_message.find("'nobody'"), std::string::npos);
}

TEST(router_filters, mix_pins_replace_the_persona_list)
{
    auto pol = make_policy();
    pol.mix.persona_preferences["writer"] = {{"beta", "", {}}, {"alpha", "a-large", {}}};
    EXPECT_EQ(chosen(router(pol).route(req("writer"))), (std::vector<std::string>{"beta/b-1", "alpha/a-large"}));
    EXPECT_EQ(router(pol).route(req("writer")).candidates[0].reason, "mix A preference 1");
}

TEST(router_filters, bind_candidates_keeps_order_and_model_info)
{
    const auto pol = make_policy();
    const auto plan = router(pol).route(req("writer", 20000));
    const auto bound = bind_candidates(plan, [](const std::string& name) -> pv::provider* {
        return name == "beta" ? reinterpret_cast<pv::provider*>(0x1) : nullptr;  // alpha is missing
    });
    ASSERT_EQ(bound.size(), 1u);
    EXPECT_EQ(bound[0].model, "b-1");
    EXPECT_EQ(bound[0].info.context_window, 100000);
}

}  // namespace

namespace {

TEST(router_filters, a_pinned_model_that_fails_a_filter_is_an_error_never_a_swap)
{
    const auto pol = make_policy();
    auto r = req("writer");
    r.capabilities = {"tools"};
    r.model_override = "beta/b-1";  // beta has no tools
    auto plan = router(pol).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable);
    EXPECT_TRUE(plan.candidates.empty()) << "alpha/a-small must not silently replace the pinned model";
    EXPECT_NE(plan.error_message.find("phase model 'beta/b-1' cannot serve persona 'writer'"), std::string::npos)
        << plan.error_message;
    EXPECT_NE(plan.error_message.find("beta/b-1: missing capability tools"), std::string::npos) << plan.error_message;

    // Unavailable.
    r = req("writer");
    r.model_override = "gamma/g-1";
    plan = router(pol).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable);
    EXPECT_NE(plan.error_message.find("gamma/g-1: unavailable: set EP_GAMMA_API_KEY"), std::string::npos)
        << plan.error_message;

    // Too small a window: not swapped for the provider's larger model either.
    r = req("writer", 20000);
    r.model_override = "alpha/a-small";
    plan = router(pol).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable);
    EXPECT_NE(plan.error_message.find("alpha/a-small: context window 8000 < needed 20000"), std::string::npos)
        << plan.error_message;
    r.model_override = "a-small";  // bare, same rule
    plan = router(pol).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable) << chosen(plan).size();

    // Not in the mix.
    auto mixed = make_policy();
    mixed.mix.name = "M";
    mixed.mix.allowed_providers = {"alpha"};
    r = req("writer");
    r.model_override = "beta/b-1";
    plan = router(mixed).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable);
    EXPECT_NE(plan.error_message.find("beta/b-1: not in mix M"), std::string::npos) << plan.error_message;

    // A bare model no allowed preference lists.
    r.model_override = "b-1";
    plan = router(mixed).route(r);
    EXPECT_EQ(plan.ec, router_errc::pinned_model_unusable);
    EXPECT_NE(plan.error_message.find("b-1"), std::string::npos) << plan.error_message;
    EXPECT_EQ(std::string(router_category().message(static_cast<int>(router_errc::pinned_model_unusable))),
              "the phase's pinned model cannot serve it");
}

TEST(router_filters, a_usable_bare_model_override_comes_first)
{
    auto pol = make_policy();
    pol.personas["writer"].provider_preferences = {{"beta", "", {}}, {"alpha", "a-small", {}}};
    auto r = req("writer");
    r.model_override = "a-large";
    EXPECT_EQ(chosen(router(pol).route(r)), (std::vector<std::string>{"alpha/a-large", "beta/b-1"}));
}

TEST(router_filters, an_unlisted_model_routes_with_default_limits_and_unknown_price)
{
    const auto pol = make_policy();
    auto r = req("writer");
    r.model_override = "alpha/custom-7b";
    const auto plan = router(pol).route(r);
    ASSERT_TRUE(plan.ok()) << plan.error_message;
    const auto& c = plan.candidates.front();
    EXPECT_EQ(c.str(), "alpha/custom-7b");
    EXPECT_FALSE(c.info.in_catalogue);
    EXPECT_FALSE(c.info.price_known());
    EXPECT_EQ(c.info.context_window, pv::model_info{}.context_window);
    EXPECT_NE(c.reason.find("not in the catalogue: default limits, price unknown"), std::string::npos) << c.reason;
    // Catalogued candidates carry their price state as listed.
    EXPECT_TRUE(plan.candidates.back().info.in_catalogue);
}

}  // namespace
