// The request-feature keys shared by personas, phases and `defaults:` (reasoning, cache,
// on_content_filter): their names and how they are read from a schema-checked document.
#include "workflow/request_features.hpp"

#include "yaml/json_access.hpp"

namespace ep::engine {

std::string_view to_string(content_filter_action a) noexcept
{
    return a == content_filter_action::fallback ? "fallback" : "fail";
}

std::optional<content_filter_action> parse_content_filter_action(std::string_view text) noexcept
{
    if (text == "fail")
        return content_filter_action::fail;
    if (text == "fallback")
        return content_filter_action::fallback;
    return std::nullopt;
}

namespace detail {

// The schema has already rejected other values (with FILE:LINE:COL); anything it let through
// that does not parse is left unset rather than guessed.
request_feature_values read_request_features(const json& obj)
{
    request_feature_values out;
    if (const json* r = field(obj, "reasoning"); r && r->is_object())
        if (auto effort = get_string(*r, "effort"))
            out.reasoning = parse_reasoning_effort(*effort);
    out.cache = get_bool(obj, "cache");
    if (auto action = get_string(obj, "on_content_filter"))
        out.on_content_filter = parse_content_filter_action(*action);
    return out;
}

}  // namespace detail
}  // namespace ep::engine
