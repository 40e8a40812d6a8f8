#pragma once
// Anthropic Messages: the request encoder, the named-event stream decoder, the error
// vocabulary and stop reasons. The conversation converter is public
// (ep/providers/convert.hpp: to_anthropic_messages / from_anthropic_messages); the stream
// event logic (events.hpp) is shared with the Claude Code CLI decoder.

#include "protocols/codec.hpp"
#include "protocols/common/error_classify.hpp"

#include <ep/providers/convert.hpp>

namespace ep::providers::sansio {

/// POST {base}/v1/messages (a base URL ending in /v1 is accepted too), x-api-key and
/// anthropic-version 2023-06-01, stream: true.
http_request encode_anthropic_request(const provider_config& cfg, std::string_view base_path, const chat_request& req);

/// Named SSE events, terminal `message_stop`; `event: error` inside the stream is an error.
std::unique_ptr<stream_decoder> make_anthropic_decoder();

const error_mapping& anthropic_errors() noexcept;
boost::system::error_code classify_anthropic_error(int status, const http_headers& headers, std::string_view body,
                                                   diagnostics& diag);

/// to_anthropic_messages with prompt caching: with `cache` (enabled), the system prompt and every
/// text_part flagged `cache` that is at least cache->min_chars long get `cache_control:
/// {type: ephemeral}` (the system prompt then becomes one text block); only the last four
/// markers are kept. Null: no markers.
nlohmann::json anthropic_messages(const conversation& c, const cache_options* cache);

/// end_turn, stop_sequence, max_tokens, model_context_window_exceeded, tool_use, refusal, …
finish_reason map_anthropic_stop(std::string_view raw) noexcept;

}  // namespace ep::providers::sansio
