#pragma once
// The OpenAI Responses API (POST /v1/responses), which newer OpenAI models are built for:
// the request encoder, the semantic-event stream decoder and how it reports failure. Errors
// share OpenAI's vocabulary (openai_errors); the conversation converter is public
// (ep/providers/convert.hpp: to_responses_input / from_responses_input).

#include "protocols/codec.hpp"
#include "protocols/common/error_classify.hpp"

namespace ep::providers::sansio {

/// POST {base}/responses with stream: true and store: false (EP keeps the conversation, so
/// nothing is stored server-side; reasoning is carried across turns as encrypted content).
http_request encode_responses_request(const provider_config& cfg, std::string_view base_path,
                                      const chat_request& req);

/// SSE with `event:` names equal to the JSON `type`. Text from response.output_text.delta,
/// tool calls from function_call output items and response.function_call_arguments.delta,
/// reasoning summaries from response.reasoning_summary_text.delta (never answer text), usage
/// from the terminal response. Terminal events: response.completed, response.incomplete
/// (max_output_tokens → length, content_filter → content_filter), response.failed and the
/// top-level `error` event (both errors). A trailing `data: [DONE]` is tolerated.
std::unique_ptr<stream_decoder> make_responses_decoder();

/// OpenAI's error vocabulary, under this protocol's name.
const error_mapping& responses_errors() noexcept;
boost::system::error_code classify_responses_error(int status, const http_headers& headers, std::string_view body,
                                                   diagnostics& diag);

}  // namespace ep::providers::sansio
