#pragma once
// Small, non-throwing accessors for provider JSON: wire data is untrusted, so a field of the
// wrong type reads as absent instead of throwing nlohmann::type_error.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ep::providers::sansio {

using json = nlohmann::json;

/// j[key] when j is an object holding key, else nullptr.
inline const json* member(const json& j, std::string_view key)
{
    if (!j.is_object())
        return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

inline const std::string* string_member(const json& j, std::string_view key)
{
    auto const* m = member(j, key);
    return m && m->is_string() ? m->get_ptr<const std::string*>() : nullptr;
}

inline std::string string_or(const json& j, std::string_view key, std::string fallback = {})
{
    auto const* s = string_member(j, key);
    return s ? *s : std::move(fallback);
}

/// A whole number (a float is truncated); absent when it does not fit in 64 bits: converting
/// an out-of-range double is undefined behaviour, and 1e300 is a valid JSON number.
inline std::optional<std::int64_t> int_member(const json& j, std::string_view key)
{
    auto const* m = member(j, key);
    if (!m)
        return std::nullopt;
    if (m->is_number_unsigned())
    {
        const auto v = m->get<std::uint64_t>();
        return v <= static_cast<std::uint64_t>(INT64_MAX) ? std::optional<std::int64_t>(static_cast<std::int64_t>(v))
                                                         : std::nullopt;
    }
    if (m->is_number_integer())
        return m->get<std::int64_t>();
    if (m->is_number_float())
    {
        const double v = m->get<double>();
        // [-2^63, 2^63): both bounds are exact doubles; NaN fails both comparisons.
        if (v >= -9223372036854775808.0 && v < 9223372036854775808.0)
            return static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

/// Largest token count believed (10^15): anything above is garbage, and bounding it keeps the
/// sums of counts (input = uncached + cache reads + cache writes, …) far from overflow.
constexpr std::int64_t max_token_count = 1'000'000'000'000'000;

/// A usage counter: a number from 0 to max_token_count, else absent (negative or absurd
/// values are read as not reported).
inline std::optional<std::int64_t> count_member(const json& j, std::string_view key)
{
    auto v = int_member(j, key);
    if (!v || *v < 0 || *v > max_token_count)
        return std::nullopt;
    return v;
}

/// Parses without throwing; a discarded value means the text was not JSON.
inline json parse_json(std::string_view text)
{
    return json::parse(text.begin(), text.end(), nullptr, false);
}

/// The text of a JSON value that should be a string: the string itself, else its dump.
inline std::string text_of(const json& j)
{
    if (j.is_string())
        return j.get<std::string>();
    if (j.is_null())
        return {};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Tool-call arguments as an object for protocols that want one (Anthropic, Gemini): empty
/// text means {}; text that is not a JSON object is kept under "arguments" so nothing is lost.
inline json arguments_object(const std::string& arguments)
{
    if (arguments.empty())
        return json::object();
    auto j = parse_json(arguments);
    if (j.is_object())
        return j;
    return json{{"arguments", arguments}};
}

}  // namespace ep::providers::sansio
