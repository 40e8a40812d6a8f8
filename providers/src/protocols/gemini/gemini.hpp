#pragma once
// Google Gemini generateContent: the streamGenerateContent?alt=sse request encoder, the chunk
// decoder, the error vocabulary (google.rpc status names) and finish reasons. The
// conversation converter is public (ep/providers/convert.hpp: to_gemini_messages /
// from_gemini_messages).

#include "protocols/codec.hpp"
#include "protocols/common/error_classify.hpp"

namespace ep::providers::sansio {

/// POST {base}/models/{model}:streamGenerateContent?alt=sse with x-goog-api-key.
http_request encode_gemini_request(const provider_config& cfg, std::string_view base_path, const chat_request& req);

/// Data-only SSE of GenerateContentResponse chunks; terminal = the chunk carrying
/// finishReason (the server then closes the body). Tool-call ids, which Gemini usually
/// omits, are made up as "call_<12 random hex digits>_<n>", unique per decoder.
std::unique_ptr<stream_decoder> make_gemini_decoder();
/// make_gemini_decoder with made-up tool-call ids `<call_id_prefix><n>` (deterministic, for tests).
std::unique_ptr<stream_decoder> make_gemini_decoder_with_id_prefix(std::string call_id_prefix);

const error_mapping& gemini_errors() noexcept;
boost::system::error_code classify_gemini_error(int status, const http_headers& headers, std::string_view body,
                                                diagnostics& diag);

/// STOP, MAX_TOKENS, the safety family (SAFETY, RECITATION, BLOCKLIST, …), …
finish_reason map_gemini_finish(std::string_view raw) noexcept;

}  // namespace ep::providers::sansio
