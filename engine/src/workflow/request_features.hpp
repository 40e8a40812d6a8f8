#pragma once
// Reading `reasoning: {effort}`, `cache:` and `on_content_filter:` from a persona, a phase or
// `defaults:` (the same three keys everywhere).

#include "yaml/json_access.hpp"

#include <ep/engine/workflow.hpp>

#include <optional>

namespace ep::engine::detail {

struct request_feature_values
{
    std::optional<reasoning_effort> reasoning;
    std::optional<bool> cache;
    std::optional<content_filter_action> on_content_filter;
};

/// The keys present in `obj` (an object already checked against the schema).
request_feature_values read_request_features(const json& obj);

}  // namespace ep::engine::detail
