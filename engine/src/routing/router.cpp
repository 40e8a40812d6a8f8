// The persona router (router.hpp). The order of a plan is the order of preferences; filters
// only remove pairs, and every removal is recorded so that --explain and the unroutable error
// can say what to change.
#include <ep/engine/router.hpp>

#include <ep/engine/routing/circuit_breaker.hpp>

#include <algorithm>
#include <utility>

namespace ep::engine {

namespace {

namespace pv = ep::providers;

class router_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.router"; }
    std::string message(int ev) const override
    {
        switch (static_cast<router_errc>(ev))
        {
        case router_errc::unknown_persona: return "unknown persona";
        case router_errc::unroutable: return "no provider can serve the persona";
        case router_errc::pinned_model_unusable: return "the phase's pinned model cannot serve it";
        }
        return "unknown router error";
    }
};

/// One (provider, model) to examine, with why it is being examined.
struct proposal
{
    std::string provider;
    std::string model;  // empty: the provider's default model
    std::string reason;
    bool pinned = false;  // the phase's PROVIDER/MODEL: never swapped for a larger model
};

std::set<std::string> capabilities_of(const pv::provider_config& p, const pv::model_info* m)
{
    std::set<std::string> caps = p.capabilities;
    if (m)
        caps.insert(m->capabilities.begin(), m->capabilities.end());
    return caps;
}

std::string unavailable_hint(const pv::provider_config& p)
{
    if (p.type == "claude_agent")
        return "unavailable: set EP_CLAUDE_CLI or put `" + (p.cli_path.empty() ? std::string("claude") : p.cli_path) +
               "` on PATH";
    std::string vars;
    if (!p.api_key_env.empty())
        vars = p.api_key_env;
    if (!p.base_url_env.empty())
        vars += (vars.empty() ? "" : " or ") + p.base_url_env;
    if (vars.empty())
        return "unavailable: no credentials configured";
    return "unavailable: set " + vars;
}

/// Runs the filters for one plan. Keeps the pairs already decided so that a pair reached twice
/// (a preference and the default provider, say) is reported once.
class planner
{
public:
    planner(const policy& pol, const route_request& req, const persona_spec* persona, route_plan& plan)
        : pol_(pol), req_(req), persona_(persona), plan_(plan)
    {
        if (persona_)
            required_.insert(persona_->requires_capabilities.begin(), persona_->requires_capabilities.end());
        for (const auto& c : req_.capabilities)
            if (!is_emulated_capability(c))
                required_.insert(c);
        const std::int64_t reserve =
            req_.max_output_tokens.value_or(persona_ && persona_->max_tokens ? *persona_->max_tokens : 0);
        plan_.needed_tokens = req_.prompt_tokens + reserve;
    }

    void consider(const proposal& p)
    {
        if (!seen_provider_check(p))
            return;
        const auto* cfg = pol_.find_provider(p.provider);
        if (!pol_.provider_allowed(p.provider))
            return drop(p.provider, p.model, drop_kind::not_in_mix,
                        "not in mix " + pol_.mix.name + " (" + p.reason + ")");
        if (!cfg)
            return drop(p.provider, p.model, drop_kind::unknown_provider,
                        "unknown provider, not in capabilities.yaml (" + p.reason + ")");
        if (!cfg->available)
            return drop(p.provider, p.model, drop_kind::unavailable, unavailable_hint(*cfg));

        const std::string model = p.pinned ? p.model : choose_model(*cfg, p.model);
        const pv::model_info* info = cfg->find_model(model);
        if (try_model(*cfg, model, info, p.reason) != outcome::window_too_small || p.pinned || pinned_here(model))
            return;
        // The chosen model's window is too small: the provider's larger models, in config order.
        for (const auto& other : cfg->models)
            if (other.id != model && (!info || other.context_window > info->context_window))
                if (try_model(*cfg, other.id, &other, "larger context window than " + model) == outcome::kept)
                    break;
    }

private:
    /// True when `model` is the phase's bare-model override: a pinned model is not swapped
    /// for a larger one either.
    bool pinned_here(const std::string& model) const
    {
        return req_.model_override && req_.model_override->find('/') == std::string::npos &&
               *req_.model_override == model;
    }

    /// The model a preference leads to: the phase's bare-model override when this provider
    /// serves it, else the preference's model, else the provider's default.
    std::string choose_model(const pv::provider_config& cfg, const std::string& preferred) const
    {
        if (req_.model_override && req_.model_override->find('/') == std::string::npos &&
            cfg.find_model(*req_.model_override))
            return *req_.model_override;
        if (!preferred.empty())
            return preferred;
        return cfg.models.empty() ? std::string{} : cfg.default_model().id;
    }

    bool seen_provider_check(const proposal& p)
    {
        // A provider dropped as a whole (mix, availability) is reported once.
        for (const auto& d : plan_.dropped)
            if (d.provider == p.provider &&
                (d.kind == drop_kind::not_in_mix || d.kind == drop_kind::unavailable ||
                 d.kind == drop_kind::unknown_provider))
                return false;
        return true;
    }

    bool decided(const std::string& provider, const std::string& model) const
    {
        const auto same = [&](const auto& c) { return c.provider == provider && c.model == model; };
        return std::any_of(plan_.candidates.begin(), plan_.candidates.end(), same) ||
               std::any_of(plan_.dropped.begin(), plan_.dropped.end(), same);
    }

    enum class outcome { kept, seen, window_too_small, dropped };

    /// Applies the per-model filters.
    outcome try_model(const pv::provider_config& cfg, const std::string& model, const pv::model_info* info,
                   const std::string& reason)
    {
        if (decided(cfg.name, model))
            return outcome::seen;
        const auto caps = capabilities_of(cfg, info);
        for (const auto& need : required_)
            if (!caps.count(need))
            {
                drop(cfg.name, model, drop_kind::missing_capability, "missing capability " + need);
                return outcome::dropped;
            }
        pv::model_info chosen;
        if (info)
            chosen = *info;
        else
        {
            chosen.id = model;  // not in the catalogue: model_info's default limits, no price
            chosen.in_catalogue = false;
        }
        if (chosen.context_window < plan_.needed_tokens)
        {
            drop(cfg.name, model, drop_kind::context_too_small,
                 "context window " + std::to_string(chosen.context_window) + " < needed " +
                     std::to_string(plan_.needed_tokens));
            return outcome::window_too_small;
        }
        if (req_.circuits)
            if (auto breaker = req_.circuits->find(cfg.name, model); breaker && breaker->is_open())
            {
                drop(cfg.name, model, drop_kind::circuit_open, "circuit open (recent failures)");
                return outcome::dropped;
            }
        std::string why = reason;
        if (!info)
            why += "; not in the catalogue: default limits, price unknown";
        for (const auto& c : req_.capabilities)
            if (is_emulated_capability(c) && !caps.count(c))
                why += "; " + c + " emulated by prompt";
        plan_.candidates.push_back({cfg.name, model, std::move(chosen), std::move(why)});
        return outcome::kept;
    }

    void drop(const std::string& provider, const std::string& model, drop_kind kind, std::string reason)
    {
        plan_.dropped.push_back({provider, model, kind, std::move(reason)});
    }

    const policy& pol_;
    const route_request& req_;
    const persona_spec* persona_;
    route_plan& plan_;
    std::set<std::string> required_;
};

std::vector<proposal> proposals_for(const policy& pol, const persona_spec* persona,
                                    const std::optional<std::string>& default_provider,
                                    const route_request& req)
{
    std::vector<proposal> out;
    if (req.model_override)
        if (const auto slash = req.model_override->find('/'); slash != std::string::npos)
            out.push_back({req.model_override->substr(0, slash), req.model_override->substr(slash + 1),
                           "phase model " + *req.model_override, true});

    // The mix's list for this persona replaces the persona's own (policy::effective_preferences
    // does the same, but also hides what the mix filtered out).
    const std::vector<provider_preference>* prefs = nullptr;
    std::string source = "persona preference";
    if (persona)
    {
        if (auto it = pol.mix.persona_preferences.find(persona->name); it != pol.mix.persona_preferences.end())
        {
            prefs = &it->second;
            source = "mix " + pol.mix.name + " preference";
        }
        else if (!persona->provider_preferences.empty())
            prefs = &persona->provider_preferences;
    }
    if (prefs)
    {
        int n = 0;
        bool any_allowed = false;
        for (const auto& p : *prefs)
        {
            out.push_back({p.provider, p.model, source + " " + std::to_string(++n)});
            any_allowed = any_allowed || pol.provider_allowed(p.provider);
        }
        if (any_allowed)
            return out;
        // Every preference is outside the mix: the mix's providers serve the persona instead
        // (as policy::effective_preferences does).
        for (const auto& name : pol.mix.allowed_providers)
            out.push_back({name, "", "mix " + pol.mix.name + " provider (no preference allowed)"});
        return out;
    }

    // No stated provider: EP_DEFAULT_PROVIDER, then the mix's providers in order.
    if (default_provider)
        out.push_back({*default_provider, "", "EP_DEFAULT_PROVIDER"});
    if (!pol.mix.allowed_providers.empty())
        for (const auto& name : pol.mix.allowed_providers)
            out.push_back({name, "", "mix " + pol.mix.name + " provider"});
    else
        for (const auto& [name, cfg] : pol.providers)
            out.push_back({name, "", "configured provider"});
    return out;
}

/// Fails the plan when the phase's `model:` is not among the candidates (the pair was dropped,
/// or no preferred provider lists a bare model); otherwise puts a bare model's candidates first.
void enforce_pinned_model(const std::string& pinned, route_plan& plan)
{
    const auto slash = pinned.find('/');
    const std::string provider = slash == std::string::npos ? std::string{} : pinned.substr(0, slash);
    const std::string model = slash == std::string::npos ? pinned : pinned.substr(slash + 1);
    const auto is_pinned = [&](const auto& c) {
        return (provider.empty() || c.provider == provider) && c.model == model;
    };
    if (std::any_of(plan.candidates.begin(), plan.candidates.end(), is_pinned))
    {
        std::stable_partition(plan.candidates.begin(), plan.candidates.end(), is_pinned);
        return;
    }
    std::string reasons;
    for (const auto& d : plan.dropped)
        if (is_pinned(d) || (!provider.empty() && d.provider == provider && d.model.empty()))
            reasons += "\n  " + d.str() + ": " + d.reason;
    if (reasons.empty())
        reasons = provider.empty() ? "\n  no provider the persona may use lists model '" + model + "'"
                                   : "\n  " + pinned + " was not considered";
    plan.ec = router_errc::pinned_model_unusable;
    plan.candidates.clear();
    plan.error_message = "phase model '" + pinned + "' cannot serve persona '" +
                         (plan.persona.empty() ? std::string("(none)") : plan.persona) +
                         "' (a pinned model is never replaced by another; change `model:` or fix the cause):" +
                         reasons;
}

std::string unroutable_message(const route_plan& plan)
{
    std::string msg = "persona '" + (plan.persona.empty() ? std::string("(none)") : plan.persona) +
                      "' cannot be routed";
    if (plan.dropped.empty())
        return msg + ": no provider is configured for it";
    msg += ":";
    for (const auto& d : plan.dropped)
        msg += "\n  " + d.str() + ": " + d.reason;
    return msg;
}

}  // namespace

const boost::system::error_category& router_category() noexcept
{
    static const router_category_impl instance;
    return instance;
}

bool is_emulated_capability(const std::string& capability)
{
    return capability == "json_mode";
}

const char* to_string(drop_kind k) noexcept
{
    switch (k)
    {
    case drop_kind::not_in_mix: return "not_in_mix";
    case drop_kind::unknown_provider: return "unknown_provider";
    case drop_kind::unavailable: return "unavailable";
    case drop_kind::missing_capability: return "missing_capability";
    case drop_kind::context_too_small: return "context_too_small";
    case drop_kind::circuit_open: return "circuit_open";
    }
    return "unknown";
}

route_request make_route_request(const phase_spec& phase, std::int64_t prompt_tokens, bool tools_offered)
{
    route_request req;
    req.persona = phase.persona.value;
    req.prompt_tokens = prompt_tokens;
    if (phase.max_tokens)
        req.max_output_tokens = *phase.max_tokens;
    if (phase.output.format == output_format::json)
        req.capabilities.insert("json_mode");
    if (tools_offered)
        req.capabilities.insert("tools");
    req.model_override = phase.model;
    return req;
}

router::router(const policy& pol, std::optional<std::string> default_provider)
    : policy_(&pol), default_provider_(std::move(default_provider))
{
}

router router::from_environment(const policy& pol, const ep::environment& env)
{
    return router(pol, env.get("EP_DEFAULT_PROVIDER"));
}

route_plan router::route(const route_request& req) const
{
    route_plan plan;
    plan.persona = req.persona;
    const persona_spec* persona = nullptr;
    if (!req.persona.empty())
    {
        persona = policy_->find_persona(req.persona);
        if (!persona)
        {
            plan.ec = router_errc::unknown_persona;
            plan.error_message = "unknown persona '" + req.persona +
                                 "': define it in personas.yaml, in the workflow's `personas:` or with --personas FILE";
            return plan;
        }
    }

    planner p(*policy_, req, persona, plan);
    for (const auto& prop : proposals_for(*policy_, persona, default_provider_, req))
        p.consider(prop);

    if (req.model_override)
        enforce_pinned_model(*req.model_override, plan);
    if (plan.candidates.empty() && !plan.ec)
    {
        plan.ec = router_errc::unroutable;
        plan.error_message = unroutable_message(plan);
    }
    return plan;
}

std::vector<candidate> bind_candidates(const route_plan& plan,
                                       const std::function<providers::provider*(const std::string&)>& lookup)
{
    std::vector<candidate> out;
    for (const auto& c : plan.candidates)
        if (auto* target = lookup(c.provider))
        {
            candidate bound;
            bound.target = target;
            bound.model = c.model;
            bound.info = c.info;
            out.push_back(std::move(bound));
        }
    return out;
}

}  // namespace ep::engine
