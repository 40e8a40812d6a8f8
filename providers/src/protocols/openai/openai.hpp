#pragma once
// OpenAI Chat Completions and the servers that speak it (Ollama, vLLM, llama.cpp, OpenRouter,
// Azure): the request encoder, the chunk-stream decoder, the error vocabulary and finish
// reasons, and the options only this type has. The conversation converter is public
// (ep/providers/convert.hpp: to_openai_messages / from_openai_messages).

#include "protocols/codec.hpp"
#include "protocols/common/error_classify.hpp"

namespace ep::providers::sansio {

/// POST {base}/chat/completions with stream + include_usage; Bearer key, or Azure's
/// `api-key` header and `?api-version=` when cfg.azure_api_version is set.
http_request encode_openai_request(const provider_config& cfg, std::string_view base_path, const chat_request& req);

/// Bearer key, or Azure's `api-key` header plus `?api-version=` on the target when
/// cfg.azure_api_version is set (shared with the Responses API).
void add_openai_auth(http_request& spec, const provider_config& cfg);

/// The request both OpenAI APIs send: POST {base_path}{endpoint} with `body`, the OpenAI auth
/// and the common headers.
http_request finish_openai_request(const nlohmann::json& body, const provider_config& cfg, std::string_view base_path,
                                   std::string_view endpoint, const chat_request& req);

/// Data-only SSE of chat.completion.chunk objects, terminal `data: [DONE]` (a clean end
/// after the finish chunk is accepted too: compatible servers omit [DONE]).
std::unique_ptr<stream_decoder> make_openai_decoder();

/// The error types of OpenAI and the compatible servers.
const error_mapping& openai_errors() noexcept;
boost::system::error_code classify_openai_error(int status, const http_headers& headers, std::string_view body,
                                                diagnostics& diag);

/// stop, length, tool_calls (and the deprecated function_call), content_filter.
finish_reason map_openai_finish(std::string_view raw) noexcept;

/// azure_api_version (string), use_max_completion_tokens (bool).
void parse_openai_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors);
std::span<const std::string_view> openai_option_keys() noexcept;

}  // namespace ep::providers::sansio
