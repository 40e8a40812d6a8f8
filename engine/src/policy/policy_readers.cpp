// Readers of persona, provider and preference sections (policy_readers.hpp).
#include "policy/policy_readers.hpp"

#include "workflow/request_features.hpp"

#include <ep/providers/options.hpp>

#include <algorithm>

namespace ep::engine::detail {
namespace {

namespace pv = ep::providers;

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
        pref.provider = get_string(v, "provider").value_or("");
        pref.model = get_string(v, "model").value_or("");
    }
    return pref;
}

void read_persona(const yaml_document& doc, const json& v, const std::string& pointer, persona_spec& p)
{
    if (!v.is_object())
        return;
    if (auto s = get_string(v, "description"))
        p.description = *s;
    if (v.contains("requires"))
        p.requires_capabilities = get_strings(v, "requires");
    if (const json* prefs = field(v, "provider_preferences"))
        p.provider_preferences = read_preferences(doc, *prefs, pointer + "/provider_preferences");
    if (auto s = get_string(v, "system"))
        p.system = *s;
    if (auto t = get_number(v, "temperature"))
        p.temperature = *t;
    if (auto m = get_int(v, "max_tokens"))
        p.max_tokens = static_cast<int>(*m);
    const auto features = read_request_features(v);
    if (features.reasoning)
        p.reasoning = features.reasoning;
    if (features.cache)
        p.cache = features.cache;
    if (features.on_content_filter)
        p.on_content_filter = features.on_content_filter;
}

/// One model entry over `info` (a new entry, or the existing one of the same id).
void read_model(const json& m, pv::model_info& info)
{
    info.in_catalogue = true;
    if (auto n = get_int(m, "context_window"))
        info.context_window = *n;
    if (auto n = get_int(m, "max_output_tokens"))
        info.max_output_tokens = *n;
    if (const json* price = field(m, "price"); price && price->is_object())
    {
        if (auto p = get_number(*price, "input"))
            info.input_price_per_mtok = *p;
        if (auto p = get_number(*price, "output"))
            info.output_price_per_mtok = *p;
        if (auto p = get_number(*price, "cached_input"))
            info.cached_input_price_per_mtok = *p;
    }
    if (m.contains("capabilities"))
    {
        auto caps = get_strings(m, "capabilities");
        info.capabilities = {caps.begin(), caps.end()};
    }
}

/// Models merge by id: an inline `models:` adds to (or refines) the shipped list, never
/// replaces it, so personas naming shipped models keep working.
void merge_models(const json& models, pv::provider_config& p)
{
    for (const auto& m : models)
    {
        auto id = get_string(m, "id");
        if (!m.is_object() || !id)
            continue;
        auto it = std::find_if(p.models.begin(), p.models.end(), [&](const pv::model_info& x) { return x.id == *id; });
        if (it == p.models.end())
        {
            pv::model_info info;
            info.id = *id;
            read_model(m, info);
            p.models.push_back(std::move(info));
        }
        else
            read_model(m, *it);
    }
}

void read_timeouts(const json& t, pv::timeout_config& out)
{
    if (auto d = get_duration(t, "connect"))
        out.connect = *d;
    if (auto d = get_duration(t, "first_byte"))
        out.first_byte = *d;
    if (auto d = get_duration(t, "first_token"))
        out.first_token = *d;
    if (auto d = get_duration(t, "idle"))
        out.idle = *d;
    if (auto d = get_duration(t, "total"))
        out.total = *d;
}

void read_provider(const json& v, pv::provider_config& p)
{
    if (!v.is_object())
        return;
    if (auto s = get_string(v, "type"))
        p.type = *s;
    if (auto s = get_string(v, "base_url"))
        p.base_url = *s;
    if (auto s = get_string(v, "api_key_env"))
        p.api_key_env = *s;
    if (auto s = get_string(v, "base_url_env"))
        p.base_url_env = *s;
    if (auto s = get_string(v, "ca_file"))
        p.ca_file = *s;
    if (v.contains("capabilities"))
    {
        auto caps = get_strings(v, "capabilities");
        p.capabilities = {caps.begin(), caps.end()};
    }
    if (const json* h = field(v, "extra_headers"); h && h->is_object())
        for (const auto& [k, hv] : h->items())
            if (hv.is_string())
                p.extra_headers[k] = hv.get<std::string>();
    if (const json* t = field(v, "timeouts"); t && t->is_object())
        read_timeouts(*t, p.timeouts);
    if (const json* models = field(v, "models"); models && models->is_array())
        merge_models(*models, p);
}

void read_limits(const json& v, provider_limit_config& l)
{
    const json* lim = field(v, "limits");
    if (!lim || !lim->is_object())
        return;
    if (auto n = get_int(*lim, "max_concurrent"); n && *n >= 0)
        l.max_concurrent = static_cast<std::size_t>(*n);
    if (auto n = get_number(*lim, "requests_per_minute"))
        l.requests_per_minute = *n;
    if (auto n = get_number(*lim, "tokens_per_minute"))
        l.tokens_per_minute = *n;
}

}  // namespace

std::vector<provider_preference> read_preferences(const yaml_document& doc, const json& v, const std::string& pointer)
{
    std::vector<provider_preference> out;
    if (v.is_array())
    {
        for (std::size_t i = 0; i < v.size(); ++i)
        {
            auto pref = read_preference(doc, v[i], child_pointer(pointer, i));
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

void read_personas(const yaml_document& doc, const std::string& section, std::map<std::string, persona_spec>& out)
{
    const json* personas = field(doc.root, section.c_str());
    if (!personas || !personas->is_object())
        return;
    for (const auto& name : doc.keys("/" + section))
    {
        const std::string pointer = child_pointer("/" + section, name);
        auto& p = out[name];
        p.name = name;
        p.where = doc.key_at(pointer);
        read_persona(doc, (*personas)[name], pointer, p);
    }
}

void read_providers(const yaml_document& doc, const std::string& section,
                    std::map<std::string, ep::providers::provider_config>& out,
                    std::map<std::string, provider_extras>& extras,
                    std::map<std::string, provider_limit_config>& limits, diagnostics& diag)
{
    const json* providers = field(doc.root, section.c_str());
    if (!providers || !providers->is_object())
        return;
    for (const auto& name : doc.keys("/" + section))
    {
        const json& v = (*providers)[name];
        auto& p = out[name];
        p.name = name;
        auto& extra = extras[name];
        extra.where = doc.key_at(child_pointer("/" + section, name));
        read_provider(v, p);
        read_limits(v, limits[name]);
        // The options of the provider's type (cli, cli_env, azure_api_version, …) are the
        // providers module's to read. An unknown type and a mistyped value are the schema's
        // to report; an option of another type is reported here.
        std::vector<std::string> errors;
        const auto types = pv::known_provider_types();
        if (std::find(types.begin(), types.end(), p.type) != types.end())
            pv::parse_type_options(v, p, errors, /*values_checked_by_schema=*/true);
        for (const auto& e : errors)
            diag.add(extra.where, "provider '" + name + "': " + e);
        if (auto auth = get_string(v, "auth"))
            extra.key_required = *auth != "none";
    }
}

}  // namespace ep::engine::detail
