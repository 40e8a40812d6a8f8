// Cross-checks of a loaded policy (policy_checks.hpp).
#include "policy/policy_checks.hpp"

#include "text/suggest.hpp"

#include <optional>
#include <set>

namespace ep::engine::detail {
namespace {

namespace pv = ep::providers;

std::vector<std::string> model_ids(const pv::provider_config& p)
{
    std::vector<std::string> ids;
    for (const auto& m : p.models)
        ids.push_back(m.id);
    return ids;
}

class policy_checker
{
public:
    policy_checker(policy& pol, const workflow_spec* workflow, diagnostics& diag)
        : pol_(pol), workflow_(workflow), diag_(diag)
    {
        for (const auto& [name, p] : pol_.providers)
            provider_names_.push_back(name);
        if (workflow_)
        {
            used_.emplace();
            for (const auto& phase : workflow_->phases)
                if (!phase.persona.value.empty())
                    used_->insert(phase.persona.value);
        }
    }

    void run()
    {
        for (const auto& [name, persona] : pol_.personas)
        {
            if (persona.provider_preferences.empty())
                report(name, persona.where, "persona '" + name + "' has no provider_preferences");
            for (const auto& pref : persona.provider_preferences)
                check_preference(name, pref);
        }
        for (const auto& [name, prefs] : pol_.mix.persona_preferences)
            for (const auto& pref : prefs)
                check_preference(name, pref);
        if (workflow_)
            for (const auto& phase : workflow_->phases)
                check_phase_model(phase);
    }

private:
    bool used(const std::string& persona) const { return !used_ || used_->count(persona); }

    /// An error for a persona the workflow uses, a warning for one it does not.
    void report(const std::string& persona, const source_location& where, const std::string& message)
    {
        if (used(persona))
            diag_.add(where, message);
        else
            pol_.warnings.add(where, message + " (persona '" + persona + "' is not used by this workflow)");
    }

    void check_preference(const std::string& persona, const provider_preference& pref)
    {
        const auto* p = pol_.find_provider(pref.provider);
        if (!p)
            return report(persona, pref.where,
                          "unknown provider '" + pref.provider + "'" + did_you_mean(pref.provider, provider_names_));
        if (!pref.model.empty() && !p->find_model(pref.model) && used(persona))
            pol_.warnings.add(pref.where, unlisted_model_warning(*p, pref.model));
    }

    void check_phase_model(const phase_spec& phase)
    {
        if (!phase.model)
            return;
        const std::string& model = *phase.model;
        const auto slash = model.find('/');
        if (slash == std::string::npos)
        {
            for (const auto& [name, p] : pol_.providers)
                if (p.find_model(model))
                    return;
            std::vector<std::string> all;
            for (const auto& [name, p] : pol_.providers)
                for (const auto& id : model_ids(p))
                    all.push_back(id);
            diag_.add(phase.model_where, "phase '" + phase.id + "': no provider lists model '" + model + "'" +
                                             did_you_mean(model, all) +
                                             "; write it as PROVIDER/MODEL to use a model outside the catalogue");
            return;
        }
        const std::string provider = model.substr(0, slash);
        const auto* p = pol_.find_provider(provider);
        if (!p)
            diag_.add(phase.model_where, "phase '" + phase.id + "': unknown provider '" + provider + "'" +
                                             did_you_mean(provider, provider_names_));
        else if (!p->find_model(model.substr(slash + 1)))
            pol_.warnings.add(phase.model_where, unlisted_model_warning(*p, model.substr(slash + 1)));
    }

    policy& pol_;
    const workflow_spec* workflow_;
    diagnostics& diag_;
    std::vector<std::string> provider_names_;
    std::optional<std::set<std::string>> used_;  // nullopt: every persona counts as used
};

}  // namespace

std::string unlisted_model_warning(const pv::provider_config& provider, const std::string& model)
{
    const pv::model_info defaults;
    auto text = provider.name + "/" + model + " is not in the catalogue: default limits, price unknown (context window " +
                std::to_string(defaults.context_window) + ", max output " + std::to_string(defaults.max_output_tokens) +
                "; list it under providers." + provider.name + ".models to set them)";
    return text + did_you_mean(model, model_ids(provider));
}

void check_policy(policy& pol, const workflow_spec* workflow, diagnostics& diag)
{
    policy_checker(pol, workflow, diag).run();
}

}  // namespace ep::engine::detail
