#pragma once
// Typed, tolerant reads from a schema-checked document: a field of the wrong type reads as
// absent (the schema check has already reported it), so extraction never throws.

#include "yaml/yaml_document.hpp"

#include <ep/engine/policy.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ep::engine::detail {

using json = nlohmann::json;

inline const json* field(const json& obj, const char* key)
{
    if (!obj.is_object())
        return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

inline std::optional<std::string> get_string(const json& obj, const char* key)
{
    const json* v = field(obj, key);
    if (v && v->is_string())
        return v->get<std::string>();
    return std::nullopt;
}

inline std::optional<std::int64_t> get_int(const json& obj, const char* key)
{
    const json* v = field(obj, key);
    if (v && v->is_number_integer())
        return v->get<std::int64_t>();
    return std::nullopt;
}

inline std::optional<double> get_number(const json& obj, const char* key)
{
    const json* v = field(obj, key);
    if (v && v->is_number())
        return v->get<double>();
    return std::nullopt;
}

inline std::optional<bool> get_bool(const json& obj, const char* key)
{
    const json* v = field(obj, key);
    if (v && v->is_boolean())
        return v->get<bool>();
    return std::nullopt;
}

inline std::vector<std::string> get_strings(const json& obj, const char* key)
{
    std::vector<std::string> out;
    const json* v = field(obj, key);
    if (v && v->is_array())
        for (const auto& item : *v)
            if (item.is_string())
                out.push_back(item.get<std::string>());
    return out;
}

/// A duration field: "30s"-style strings or integer seconds (malformed ones read as absent).
inline std::optional<std::chrono::milliseconds> get_duration(const json& obj, const char* key)
{
    const json* v = field(obj, key);
    if (!v)
        return std::nullopt;
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0)
        return std::chrono::seconds(v->get<std::int64_t>());
    if (v->is_string())
        return parse_duration(v->get<std::string>());
    return std::nullopt;
}

/// The location of the text at `offset` inside a string value that starts at `value_start`
/// (searches the source for the text from offset to the end of its line; falls back to
/// value_start when the scalar was escaped or folded so that the text is not in the source).
source_location locate_in_value(const yaml_document& doc, const source_location& value_start,
                                std::string_view value, std::size_t offset);

}  // namespace ep::engine::detail
