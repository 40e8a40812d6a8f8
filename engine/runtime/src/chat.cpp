// runtime::chat — one chat call routed like a phase (ep-serve's OpenAI-compatible gateway):
// "persona/NAME" through the router under a mix, "PROVIDER/MODEL" to that model alone, both
// through the shared failover layer (retries, fallback, circuit breakers, limits). The policy,
// providers and router of each mix are built once and kept.
#include "runtime_impl.hpp"

#include <ep/engine/loader.hpp>

namespace ep::runtime {

struct runtime::impl::chat_routes
{
    engine::policy routing;
    engine::provider_map providers;
    std::unique_ptr<engine::router> router;
};

namespace {

result<std::shared_ptr<runtime::impl::chat_routes>> routes_for(runtime::impl& rt, const std::string& mix)
{
    if (auto it = rt.chat_cache.find(mix); it != rt.chat_cache.end())
        return it->second;
    engine::diagnostics diag;
    auto pol = rt.load_policy_for(nullptr, mix, diag);
    if (!pol)
    {
        problems details;
        details.diag = std::move(diag);
        return runtime_error{runtime_errc::invalid_workflow, "the policy for mix '" + mix + "' does not load",
                             std::move(details)};
    }
    auto routes = std::make_shared<runtime::impl::chat_routes>();
    routes->routing = std::move(*pol);
    auto built = rt.build_providers(routes->routing);
    if (!built)
        return built.error();
    routes->providers = std::move(*built);
    for (const auto& [name, limit] : routes->routing.limits)
        if (limit.any())
            rt.limits->configure(name, limit);
    routes->router = std::make_unique<engine::router>(engine::router::from_environment(routes->routing, rt.cfg.env));
    rt.chat_cache.emplace(mix, routes);
    return routes;
}

// "persona/NAME": route the persona; its defaults fill what the request leaves open.
result<std::vector<engine::candidate>> persona_candidates(runtime::impl& rt, const runtime::impl::chat_routes& r,
                                                          const std::string& persona, providers::chat_request& req)
{
    const auto* spec = r.routing.find_persona(persona);
    if (!spec)
        return runtime_error{runtime_errc::unknown_model, "unknown persona '" + persona + "'", {}};
    if (req.system.empty())
        req.system = spec->system;
    if (!req.temperature)
        req.temperature = spec->temperature;
    if (!req.max_tokens)
        req.max_tokens = spec->max_tokens;
    engine::route_request rr;
    rr.persona = persona;
    rr.prompt_tokens = engine::estimate_prompt_tokens(req);
    if (req.max_tokens)
        rr.max_output_tokens = *req.max_tokens;
    if (!req.tools.empty())
        rr.capabilities.insert("tools");
    if (req.json_mode)
        rr.capabilities.insert("json_mode");
    rr.circuits = rt.failover->circuits().get();
    const auto plan = r.router->route(rr);
    if (!plan.ok())
        return runtime_error{runtime_errc::unroutable, plan.error_message, {}};
    auto bound = engine::bind_candidates(plan, [&](const std::string& name) -> providers::provider* {
        auto it = r.providers.find(name);
        return it == r.providers.end() ? nullptr : it->second.get();
    });
    if (bound.empty())
        return runtime_error{runtime_errc::unroutable, "no provider of persona '" + persona + "' is available", {}};
    return bound;
}

// "PROVIDER/MODEL": that model only (the mix restricts personas, not a model asked for by name).
result<std::vector<engine::candidate>> model_candidates(const runtime::impl::chat_routes& r, const std::string& provider,
                                                        const std::string& model)
{
    const auto* cfg = r.routing.find_provider(provider);
    if (!cfg)
        return runtime_error{runtime_errc::unknown_model, "unknown provider '" + provider + "'", {}};
    auto live = r.providers.find(provider);
    if (live == r.providers.end())
        return runtime_error{runtime_errc::unroutable,
                             "provider '" + provider + "' is unavailable: set " +
                                 (cfg->api_key_env.empty() ? std::string("its base URL") : cfg->api_key_env),
                             {}};
    engine::candidate c;
    c.target = live->second.get();
    c.model = model;
    if (const auto* info = cfg->find_model(model))
        c.info = *info;
    else
    {
        c.info.id = model;
        c.info.in_catalogue = false;
    }
    return std::vector<engine::candidate>{std::move(c)};
}

}  // namespace

asio::awaitable<result<engine::phase_call_result>> runtime::chat(chat_call call,
                                                                 const engine::failover_callbacks& callbacks)
{
    auto routes = routes_for(*impl_, call.mix.empty() ? std::string("A") : call.mix);
    if (!routes)
        co_return routes.error();
    const auto slash = call.model.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == call.model.size())
        co_return runtime_error{runtime_errc::unknown_model,
                                "model '" + call.model + "' must be persona/NAME or PROVIDER/MODEL", {}};
    const std::string head = call.model.substr(0, slash);
    const std::string tail = call.model.substr(slash + 1);
    auto candidates = head == "persona" ? persona_candidates(*impl_, **routes, tail, call.request)
                                        : model_candidates(**routes, head, tail);
    if (!candidates)
        co_return candidates.error();
    engine::failover_call_options opts;
    opts.deadline = std::chrono::steady_clock::now() + call.timeout;
    // Keep the routes alive for the whole call: the candidates point at their providers.
    auto keep = *routes;
    const std::vector<engine::candidate> list = std::move(*candidates);
    auto answer = co_await impl_->failover->call_with_failover(list, std::move(call.request), callbacks, opts);
    co_return answer;
}

}  // namespace ep::runtime
