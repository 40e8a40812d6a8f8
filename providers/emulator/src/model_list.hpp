#pragma once
// The emulator's model-list endpoints: OpenAI `GET /v1/models`, Anthropic `GET /v1/models`
// (told apart by its anthropic-version header; paged with limit/after_id) and Gemini
// `GET /v1beta/models` (paged with pageSize/pageToken). A fixed, deterministic list per
// protocol, with one model that no real catalogue has ("emulator-echo-1").

#include "http_util.hpp"
#include "wire_protocol.hpp"

#include <optional>

namespace ep::emulator::detail {

/// The reply for a model-list request, or nullopt when `path` is not one (or not a GET).
std::optional<reply> model_list_reply(const http_request& req, const split_target_t& target);

}  // namespace ep::emulator::detail
