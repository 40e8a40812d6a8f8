#include "protocols/common/request_features.hpp"

#include "protocols/common/json_util.hpp"

#include <algorithm>

namespace ep::providers::sansio {

namespace {

// Applies `visit` to every subschema of `schema` that JSON Schema can nest: properties,
// items (one schema or a tuple), additionalProperties, the combinators and definitions.
// `J` is json or const json.
template <class J, class F>
void for_each_subschema(J& schema, F&& visit)
{
    if (!schema.is_object())
        return;
    for (const char* key : {"properties", "$defs", "definitions", "patternProperties"})
        if (auto it = schema.find(key); it != schema.end() && it->is_object())
            for (auto& sub : *it)
                visit(sub);
    for (const char* key : {"items", "additionalProperties", "not", "if", "then", "else", "contains"})
        if (auto it = schema.find(key); it != schema.end() && it->is_object())
            visit(*it);
    for (const char* key : {"anyOf", "oneOf", "allOf", "prefixItems", "items"})
        if (auto it = schema.find(key); it != schema.end() && it->is_array())
            for (auto& sub : *it)
                visit(sub);
}

bool is_object_schema(const json& schema)
{
    if (member(schema, "properties"))
        return true;
    auto const* type = member(schema, "type");
    if (!type)
        return false;
    if (type->is_string())
        return type->get_ref<const std::string&>() == "object";
    if (type->is_array())
        for (auto const& t : *type)
            if (t.is_string() && t.get_ref<const std::string&>() == "object")
                return true;
    return false;
}

bool closed_and_all_required(const json& schema)
{
    auto const* extra = member(schema, "additionalProperties");
    if (!extra || !extra->is_boolean() || extra->get<bool>())
        return false;
    auto const* props = member(schema, "properties");
    if (!props || props->empty())
        return true;
    auto const* required = member(schema, "required");
    if (!props->is_object() || !required || !required->is_array())
        return false;
    for (auto const& [name, sub] : props->items())
        if (std::find(required->begin(), required->end(), json(name)) == required->end())
            return false;
    return true;
}

void close_objects(json& schema)
{
    if (!schema.is_object())
        return;
    if (is_object_schema(schema) && !schema.contains("additionalProperties"))
        schema["additionalProperties"] = false;
    for_each_subschema(schema, close_objects);
}

}  // namespace

bool has_capability(const provider_config& cfg, const std::string& model, std::string_view capability)
{
    const std::string cap(capability);
    if (cfg.capabilities.count(cap))
        return true;
    auto const* m = cfg.find_model(model);
    return m && m->capabilities.count(cap);
}

bool native_json(const provider_config& cfg, const std::string& model)
{
    return !has_capability(cfg, model, "json_via_prompt");
}

std::string json_instruction(const json_output& j)
{
    std::string out = "Respond with a single JSON value only: no prose, no Markdown code fences.";
    if (j.schema)
        out += " The JSON must validate against this JSON Schema:\n" + j.schema->dump();
    return out;
}

bool schema_allows_strict(const json& schema)
{
    if (!schema.is_object())
        return false;
    if (is_object_schema(schema) && !closed_and_all_required(schema))
        return false;
    bool ok = true;
    const json& read_only = schema;
    for_each_subschema(read_only, [&](const json& sub) { ok = ok && schema_allows_strict(sub); });
    return ok;
}

json closed_schema(const json& schema)
{
    json copy = schema;
    close_objects(copy);
    return copy;
}

int thinking_budget_tokens(reasoning_effort effort) noexcept
{
    switch (effort)
    {
    case reasoning_effort::low: return 2048;
    case reasoning_effort::medium: return 8192;
    case reasoning_effort::high: return 24576;
    }
    return 8192;
}

}  // namespace ep::providers::sansio
