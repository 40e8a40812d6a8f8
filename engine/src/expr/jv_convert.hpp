#pragma once
// nlohmann::json <-> libjq's jv, converted node by node (no text round trip).

#include <nlohmann/json.hpp>

extern "C" {
#include <jv.h>
}

#include <cstddef>

namespace ep::engine::detail {

/// `j` as a jv; an invalid jv when its strings alone exceed `max_bytes`.
jv to_jv(const nlohmann::json& j, std::size_t max_bytes);

/// Consumes `v` (jv_free) and returns it as JSON; NaN and infinities become null.
nlohmann::json from_jv(jv v);

}  // namespace ep::engine::detail
