// personas.yaml + capabilities.yaml + mix (+ a workflow's inline sections) -> policy.
#include "policy/policy_checks.hpp"
#include "policy/policy_readers.hpp"
#include "schema/schema_validator.hpp"
#include "text/suggest.hpp"
#include "yaml/json_access.hpp"
#include "yaml/yaml_document.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/workflow.hpp>
#include <ep/providers/options.hpp>

#include <algorithm>
#include <cctype>

namespace ep::engine {
namespace {

using detail::json;
using detail::yaml_document;

std::shared_ptr<yaml_document> load_checked(const std::filesystem::path& path, std::string_view schema,
                                            diagnostics& diag)
{
    auto doc = detail::parse_yaml_file(path.string(), load_limits{}, diag);
    if (doc)
        detail::validate_against_schema(*doc, schema, diag);
    return doc;
}

std::filesystem::path mix_path(const policy_options& options)
{
    std::string c = options.config;
    if (c.size() == 1 && std::isalpha(static_cast<unsigned char>(c[0])))
        return options.workflows_dir / "mixes" /
               (std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(c[0])))) + ".yaml");
    return c;
}

}  // namespace

void resolve_provider_environment(ep::providers::provider_config& p, const ep::environment& env, bool key_required)
{
    p.available = false;
    p.api_key.clear();
    if (!p.base_url_env.empty())
        if (auto url = env.get(p.base_url_env))
        {
            p.base_url = *url;
            p.available = true;
        }
    // A local server (Ollama, vLLM, llama.cpp) needs no key: its base URL is enough, and no key
    // is sent even if the variable happens to be set.
    if (!key_required || p.api_key_env.empty())
    {
        p.available = p.available || !p.base_url.empty();
        return;
    }
    if (auto key = env.get(p.api_key_env))
    {
        p.api_key = *key;
        p.available = true;
    }
}

request_features resolve_request_features(const phase_spec& phase, const persona_spec* persona)
{
    request_features out;
    out.reasoning = phase.reasoning ? phase.reasoning : persona ? persona->reasoning : std::nullopt;
    out.cache = phase.cache ? phase.cache : persona ? persona->cache : std::nullopt;
    if (phase.on_content_filter)
        out.on_content_filter = *phase.on_content_filter;
    else if (persona && persona->on_content_filter)
        out.on_content_filter = *persona->on_content_filter;
    return out;
}

const persona_spec* policy::find_persona(std::string_view name) const
{
    auto it = personas.find(std::string(name));
    return it == personas.end() ? nullptr : &it->second;
}

const ep::providers::provider_config* policy::find_provider(std::string_view name) const
{
    auto it = providers.find(std::string(name));
    return it == providers.end() ? nullptr : &it->second;
}

bool policy::provider_allowed(std::string_view name) const
{
    return mix.allowed_providers.empty() ||
           std::find(mix.allowed_providers.begin(), mix.allowed_providers.end(), name) != mix.allowed_providers.end();
}

std::vector<provider_preference> policy::effective_preferences(const persona_spec& persona) const
{
    auto it = mix.persona_preferences.find(persona.name);
    const auto& base = it != mix.persona_preferences.end() ? it->second : persona.provider_preferences;
    std::vector<provider_preference> out;
    for (const auto& p : base)
        if (provider_allowed(p.provider))
            out.push_back(p);
    if (out.empty())
        for (const auto& name : mix.allowed_providers)
            out.push_back({name, "", {}});
    return out;
}

namespace {

void read_mix(const yaml_document& mix, const std::filesystem::path& path, const policy_options& options,
              policy& pol, diagnostics& diag)
{
    pol.mix.source = path;
    pol.mix.name = detail::get_string(mix.root, "name").value_or(options.config);
    pol.mix.description = detail::get_string(mix.root, "description").value_or("");
    std::vector<std::string> provider_names, persona_names;
    for (const auto& [k, v] : pol.providers)
        provider_names.push_back(k);
    for (const auto& [k, v] : pol.personas)
        persona_names.push_back(k);
    if (const json* allowed = detail::field(mix.root, "providers"); allowed && allowed->is_array())
        for (std::size_t i = 0; i < allowed->size(); ++i)
        {
            if (!(*allowed)[i].is_string())
                continue;
            auto name = (*allowed)[i].get<std::string>();
            if (!pol.providers.count(name))
                diag.add(mix.at(detail::child_pointer("/providers", i)),
                         "unknown provider '" + name + "'" + detail::did_you_mean(name, provider_names));
            pol.mix.allowed_providers.push_back(name);
        }
    if (const json* personas = detail::field(mix.root, "personas"); personas && personas->is_object())
        for (const auto& name : mix.keys("/personas"))
        {
            const std::string pointer = detail::child_pointer("/personas", name);
            if (!pol.personas.count(name))
                diag.add(mix.key_at(pointer), "unknown persona '" + name + "'" + detail::did_you_mean(name, persona_names));
            pol.mix.persona_preferences[name] = detail::read_preferences(mix, (*personas)[name], pointer);
        }
}

/// Structural checks of every provider, then its availability from the environment.
void finish_providers(policy& pol, const std::map<std::string, detail::provider_extras>& extras,
                      const ep::environment& env, diagnostics& diag)
{
    for (auto& [name, p] : pol.providers)
    {
        const auto& extra = extras.at(name);
        if (p.type.empty())
            diag.add(extra.where, "provider '" + name + "' has no type (" +
                                     detail::join(ep::providers::known_provider_types()) + ")");
        else if (p.type != "claude_agent" && p.base_url.empty())
            diag.add(extra.where, "provider '" + name + "' has no base_url");
        if (p.models.empty())
            diag.add(extra.where, "provider '" + name + "' has no models");
        if (p.type != "claude_agent")
        {
            resolve_provider_environment(p, env, extra.key_required);
            continue;
        }
        // The adapter runs what this finds (the same lookup, the same environment).
        const auto cli = ep::providers::locate_claude_cli(p, env);
        p.available = !cli.path.empty();
        if (p.available)
            p.cli_path = cli.path;
    }
}

}  // namespace

boost::system::result<policy> load_policy(const policy_options& options, const ep::environment& env,
                                          diagnostics& diag)
{
    const std::size_t before = diag.size();
    policy pol;
    std::map<std::string, detail::provider_extras> extras;
    std::vector<std::shared_ptr<yaml_document>> docs;  // keeps documents alive while reading

    if (options.workflows_dir.empty())
    {
        diag.add({}, "cannot find the shipped workflows directory (personas.yaml, capabilities.yaml); set EP_HOME");
        return make_error_code(workflow_errc::invalid_config);
    }
    if (auto caps = load_checked(options.workflows_dir / "capabilities.yaml", "capabilities", diag))
    {
        detail::read_providers(*caps, "providers", pol.providers, extras, pol.limits, diag);
        docs.push_back(caps);
    }
    const auto personas_path = options.personas_file.value_or(options.workflows_dir / "personas.yaml");
    if (auto personas = load_checked(personas_path, "personas", diag))
    {
        detail::read_personas(*personas, "personas", pol.personas);
        docs.push_back(personas);
    }
    if (options.workflow && options.workflow->document)
    {
        const auto& wf = *options.workflow->document;
        detail::read_providers(wf, "providers", pol.providers, extras, pol.limits, diag);
        detail::read_personas(wf, "personas", pol.personas);
    }

    const auto mpath = mix_path(options);
    std::error_code ec;
    if (!std::filesystem::exists(mpath, ec))
        diag.add({}, "unknown config '" + options.config + "' (expected A, B, C, D, E or the path of a mix file)");
    else if (auto mix = load_checked(mpath, "mix", diag))
        read_mix(*mix, mpath, options, pol, diag);

    detail::check_policy(pol, options.workflow, diag);
    finish_providers(pol, extras, env, diag);
    pol.warnings.sort();

    if (diag.size() != before)
        return make_error_code(workflow_errc::invalid_config);
    return pol;
}

std::filesystem::path find_workflows_dir(const ep::environment& env, const std::filesystem::path& exe_path)
{
    std::vector<std::filesystem::path> candidates;
    if (auto home = env.get("EP_HOME"))
    {
        candidates.emplace_back(std::filesystem::path(*home) / "workflows");
        candidates.emplace_back(*home);
    }
    if (!exe_path.empty())
        candidates.push_back(exe_path.parent_path() / ".." / "share" / "ep" / "workflows");
#ifdef EP_SOURCE_WORKFLOWS_DIR
    candidates.emplace_back(EP_SOURCE_WORKFLOWS_DIR);
#endif
    for (const auto& c : candidates)
    {
        std::error_code ec;
        if (std::filesystem::is_regular_file(c / "personas.yaml", ec))
            return std::filesystem::weakly_canonical(c, ec);
    }
    return {};
}

}  // namespace ep::engine
