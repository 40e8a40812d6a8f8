// personas.yaml + capabilities.yaml + mix (+ a workflow's inline sections) -> policy.
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

provider_preference read_preference(const yaml_document& doc, const json& v, const std::string& pointer)
{
    provider_preference pref;
    pref.where = doc.at(pointer);
    if (v.is_string())
    {
        auto s = v.get<std::string>();
        auto slash = s.find('/');
        pref.provider = s.substr(0, slash);
        if (slash != std::string::npos)
            pref.model = s.substr(slash + 1);
    }
    else if (v.is_object())
    {
        pref.provider = detail::get_string(v, "provider").value_or("");
        pref.model = detail::get_string(v, "model").value_or("");
    }
    return pref;
}

std::vector<provider_preference> read_preferences(const yaml_document& doc, const json& v, const std::string& pointer)
{
    std::vector<provider_preference> out;
    if (v.is_array())
    {
        for (std::size_t i = 0; i < v.size(); ++i)
        {
            auto pref = read_preference(doc, v[i], detail::child_pointer(pointer, i));
            if (!pref.provider.empty())
                out.push_back(std::move(pref));
        }
    }
    else
    {
        auto pref = read_preference(doc, v, pointer);
        if (!pref.provider.empty())
            out.push_back(std::move(pref));
    }
    return out;
}

// Sets only the fields present, so the same code reads a full persona and an inline override.
void read_persona(const yaml_document& doc, const json& v, const std::string& pointer, persona_spec& p)
{
    if (!v.is_object())
        return;
    if (auto s = detail::get_string(v, "description"))
        p.description = *s;
    if (v.contains("requires"))
        p.requires_capabilities = detail::get_strings(v, "requires");
    if (const json* prefs = detail::field(v, "provider_preferences"))
        p.provider_preferences = read_preferences(doc, *prefs, pointer + "/provider_preferences");
    if (auto s = detail::get_string(v, "system"))
        p.system = *s;
    if (auto t = detail::get_number(v, "temperature"))
        p.temperature = *t;
    if (auto m = detail::get_int(v, "max_tokens"))
        p.max_tokens = static_cast<int>(*m);
}

void read_personas(const yaml_document& doc, const std::string& section, std::map<std::string, persona_spec>& out)
{
    const json* personas = detail::field(doc.root, section.c_str());
    if (!personas || !personas->is_object())
        return;
    for (const auto& name : doc.keys("/" + section))
    {
        const std::string pointer = detail::child_pointer("/" + section, name);
        auto& p = out[name];
        p.name = name;
        p.where = doc.key_at(pointer);
        read_persona(doc, (*personas)[name], pointer, p);
    }
}

void read_provider(const json& v, ep::providers::provider_config& p)
{
    if (!v.is_object())
        return;
    if (auto s = detail::get_string(v, "type"))
        p.type = *s;
    if (auto s = detail::get_string(v, "base_url"))
        p.base_url = *s;
    if (auto s = detail::get_string(v, "api_key_env"))
        p.api_key_env = *s;
    if (auto s = detail::get_string(v, "base_url_env"))
        p.base_url_env = *s;
    if (v.contains("capabilities"))
    {
        auto caps = detail::get_strings(v, "capabilities");
        p.capabilities = {caps.begin(), caps.end()};
    }
    if (const json* h = detail::field(v, "extra_headers"); h && h->is_object())
        for (const auto& [k, hv] : h->items())
            if (hv.is_string())
                p.extra_headers[k] = hv.get<std::string>();
    if (const json* t = detail::field(v, "timeouts"); t && t->is_object())
    {
        if (auto d = detail::get_duration(*t, "connect"))
            p.timeouts.connect = *d;
        if (auto d = detail::get_duration(*t, "first_byte"))
            p.timeouts.first_byte = *d;
        if (auto d = detail::get_duration(*t, "first_token"))
            p.timeouts.first_token = *d;
        if (auto d = detail::get_duration(*t, "idle"))
            p.timeouts.idle = *d;
        if (auto d = detail::get_duration(*t, "total"))
            p.timeouts.total = *d;
    }
    if (const json* models = detail::field(v, "models"); models && models->is_array())
    {
        p.models.clear();
        for (const auto& m : *models)
        {
            if (!m.is_object() || !detail::get_string(m, "id"))
                continue;
            ep::providers::model_info info;
            info.id = *detail::get_string(m, "id");
            info.context_window = detail::get_int(m, "context_window").value_or(info.context_window);
            info.max_output_tokens = detail::get_int(m, "max_output_tokens").value_or(info.max_output_tokens);
            if (const json* price = detail::field(m, "price"))
            {
                info.input_price_per_mtok = detail::get_number(*price, "input").value_or(0);
                info.output_price_per_mtok = detail::get_number(*price, "output").value_or(0);
            }
            auto caps = detail::get_strings(m, "capabilities");
            info.capabilities = {caps.begin(), caps.end()};
            p.models.push_back(std::move(info));
        }
    }
}

void read_limits(const json& v, provider_limit_config& l)
{
    const json* lim = detail::field(v, "limits");
    if (!lim || !lim->is_object())
        return;
    if (auto n = detail::get_int(*lim, "max_concurrent"); n && *n >= 0)
        l.max_concurrent = static_cast<std::size_t>(*n);
    if (auto n = detail::get_number(*lim, "requests_per_minute"))
        l.requests_per_minute = *n;
    if (auto n = detail::get_number(*lim, "tokens_per_minute"))
        l.tokens_per_minute = *n;
}

void read_providers(const yaml_document& doc, const std::string& section,
                    std::map<std::string, ep::providers::provider_config>& out,
                    std::map<std::string, source_location>& where,
                    std::map<std::string, provider_limit_config>& limits, diagnostics& diag)
{
    const json* providers = detail::field(doc.root, section.c_str());
    if (!providers || !providers->is_object())
        return;
    for (const auto& name : doc.keys("/" + section))
    {
        const json& v = (*providers)[name];
        auto& p = out[name];
        p.name = name;
        where[name] = doc.key_at(detail::child_pointer("/" + section, name));
        read_provider(v, p);
        read_limits(v, limits[name]);
        // The options of the provider's type (cli, azure_api_version, …) are the providers
        // module's to read. An unknown type and a mistyped value are the schema's to report.
        std::vector<std::string> errors;
        const auto types = ep::providers::known_provider_types();
        if (std::find(types.begin(), types.end(), p.type) != types.end())
            ep::providers::parse_type_options(v, p, errors, /*values_checked_by_schema=*/true);
        for (const auto& e : errors)
            diag.add(where[name], "provider '" + name + "': " + e);
    }
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

void resolve_provider_environment(ep::providers::provider_config& p, const ep::environment& env)
{
    p.available = false;
    if (!p.api_key_env.empty())
        if (auto key = env.get(p.api_key_env))
        {
            p.api_key = *key;
            p.available = true;
        }
    if (!p.base_url_env.empty())
        if (auto url = env.get(p.base_url_env))
        {
            p.base_url = *url;
            p.available = true;
        }
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

boost::system::result<policy> load_policy(const policy_options& options, const ep::environment& env,
                                          diagnostics& diag)
{
    const std::size_t before = diag.size();
    policy pol;
    std::map<std::string, source_location> provider_where;
    std::vector<std::shared_ptr<yaml_document>> docs;  // keeps documents alive while reading

    if (options.workflows_dir.empty())
    {
        diag.add({}, "cannot find the shipped workflows directory (personas.yaml, capabilities.yaml); set EP_HOME");
        return make_error_code(workflow_errc::invalid_config);
    }
    if (auto caps = load_checked(options.workflows_dir / "capabilities.yaml", "capabilities", diag))
    {
        read_providers(*caps, "providers", pol.providers, provider_where, pol.limits, diag);
        docs.push_back(caps);
    }
    const auto personas_path = options.personas_file.value_or(options.workflows_dir / "personas.yaml");
    if (auto personas = load_checked(personas_path, "personas", diag))
    {
        read_personas(*personas, "personas", pol.personas);
        docs.push_back(personas);
    }
    if (options.workflow && options.workflow->document)
    {
        const auto& wf = *options.workflow->document;
        read_providers(wf, "providers", pol.providers, provider_where, pol.limits, diag);
        read_personas(wf, "personas", pol.personas);
    }

    // The mix.
    const auto mpath = mix_path(options);
    std::error_code ec;
    if (!std::filesystem::exists(mpath, ec))
        diag.add({}, "unknown config '" + options.config + "' (expected A, B, C, D, E or the path of a mix file)");
    else if (auto mix = load_checked(mpath, "mix", diag))
    {
        pol.mix.source = mpath;
        pol.mix.name = detail::get_string(mix->root, "name").value_or(options.config);
        pol.mix.description = detail::get_string(mix->root, "description").value_or("");
        if (const json* allowed = detail::field(mix->root, "providers"); allowed && allowed->is_array())
            for (std::size_t i = 0; i < allowed->size(); ++i)
            {
                if (!(*allowed)[i].is_string())
                    continue;
                auto name = (*allowed)[i].get<std::string>();
                if (!pol.providers.count(name))
                {
                    std::vector<std::string> known;
                    for (const auto& [k, v] : pol.providers)
                        known.push_back(k);
                    diag.add(mix->at(detail::child_pointer("/providers", i)),
                             "unknown provider '" + name + "'" + detail::did_you_mean(name, known));
                }
                pol.mix.allowed_providers.push_back(name);
            }
        if (const json* personas = detail::field(mix->root, "personas"); personas && personas->is_object())
            for (const auto& name : mix->keys("/personas"))
            {
                const std::string pointer = detail::child_pointer("/personas", name);
                if (!pol.personas.count(name))
                {
                    std::vector<std::string> known;
                    for (const auto& [k, v] : pol.personas)
                        known.push_back(k);
                    diag.add(mix->key_at(pointer), "unknown persona '" + name + "'" + detail::did_you_mean(name, known));
                }
                pol.mix.persona_preferences[name] = read_preferences(*mix, (*personas)[name], pointer);
            }
    }

    // Cross-checks: every preference names a known provider and, if given, one of its models.
    std::vector<std::string> provider_names;
    for (const auto& [k, v] : pol.providers)
        provider_names.push_back(k);
    auto check_pref = [&](const provider_preference& pref) {
        const auto* p = pol.find_provider(pref.provider);
        if (!p)
        {
            diag.add(pref.where,
                     "unknown provider '" + pref.provider + "'" + detail::did_you_mean(pref.provider, provider_names));
            return;
        }
        if (!pref.model.empty() && !p->find_model(pref.model))
        {
            std::vector<std::string> models;
            for (const auto& m : p->models)
                models.push_back(m.id);
            auto hint = detail::did_you_mean(pref.model, models);
            diag.add(pref.where, "provider '" + pref.provider + "' has no model '" + pref.model + "'" +
                                     (hint.empty() ? " (models: " + detail::join(models) + ")" : hint));
        }
    };
    for (const auto& [name, persona] : pol.personas)
    {
        if (persona.provider_preferences.empty())
            diag.add(persona.where, "persona '" + name + "' has no provider_preferences");
        for (const auto& pref : persona.provider_preferences)
            check_pref(pref);
    }
    for (const auto& [name, prefs] : pol.mix.persona_preferences)
        for (const auto& pref : prefs)
            check_pref(pref);
    for (auto& [name, p] : pol.providers)
    {
        if (p.type.empty())
            diag.add(provider_where[name], "provider '" + name + "' has no type (" +
                                               detail::join(ep::providers::known_provider_types()) + ")");
        else if (p.type != "claude_agent" && p.base_url.empty())
            diag.add(provider_where[name], "provider '" + name + "' has no base_url");
        if (p.models.empty())
            diag.add(provider_where[name], "provider '" + name + "' has no models");
        resolve_provider_environment(p, env);
        if (p.type == "claude_agent")
        {
            // The adapter runs what this finds (the same lookup, the same environment).
            const auto cli = ep::providers::locate_claude_cli(p, env);
            p.available = !cli.path.empty();
            if (p.available)
                p.cli_path = cli.path;
        }
    }

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
