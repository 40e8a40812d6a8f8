#pragma once
// The seam between the sans-I/O protocol code (this folder) and the transport/adapters:
// requests are described as plain data, responses are fed in as bytes. Nothing here touches
// a socket, a timer or a process.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/types.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ep::providers::sansio {

/// Response/request headers as received; lookups are case-insensitive.
using header_list = std::vector<std::pair<std::string, std::string>>;
const std::string* find_header(const header_list& headers, std::string_view name);

/// One HTTP request to send. `target` is the path and query, already joined with the base
/// URL's path prefix (e.g. base "https://h/v1" → target "/v1/chat/completions").
struct http_request_spec
{
    std::string method = "POST";
    std::string target;
    header_list headers;  // auth, content-type, version headers; never logged (they hold the key)
    std::string body;
};

/// Turns response body bytes of a 2xx streaming response into normalised stream events.
class stream_decoder
{
public:
    virtual ~stream_decoder() = default;

    /// Feeds the next body bytes (any split, even inside a UTF-8 character). Appends decoded
    /// events to `out`. Returns an error (with `diag` filled) for an in-stream provider error
    /// or a malformed event; after an error the decoder must not be fed again.
    virtual boost::system::error_code feed(std::string_view bytes, std::vector<stream_event>& out,
                                           diagnostics& diag) = 0;

    /// The body ended. Returns provider_errc::stream_truncated unless the provider's terminal
    /// marker was seen; may append final events (e.g. the finish_event).
    virtual boost::system::error_code finish(std::vector<stream_event>& out, diagnostics& diag) = 0;

    /// The terminal marker has been seen (the transport may stop reading).
    virtual bool done() const noexcept = 0;
};

// ---- per protocol ------------------------------------------------------------------------
// `base_path` is the path component of the configured base URL ("/v1", "", "/v1beta", …).

http_request_spec encode_openai_request(const provider_config& cfg, std::string_view base_path,
                                        const chat_request& req);
http_request_spec encode_anthropic_request(const provider_config& cfg, std::string_view base_path,
                                           const chat_request& req);
http_request_spec encode_gemini_request(const provider_config& cfg, std::string_view base_path,
                                        const chat_request& req);

std::unique_ptr<stream_decoder> make_openai_decoder();
std::unique_ptr<stream_decoder> make_anthropic_decoder();
std::unique_ptr<stream_decoder> make_gemini_decoder();
/// make_gemini_decoder with made-up tool-call ids `<call_id_prefix><n>` (deterministic, for tests). The
/// default prefix is "call_<12 random hex digits>_", unique per decoder.
std::unique_ptr<stream_decoder> make_gemini_decoder_with_id_prefix(std::string call_id_prefix);

/// Classifies a non-2xx response (status, headers, whole body) of the given protocol
/// ("openai" | "anthropic" | "gemini") into a provider_errc plus diagnostics: provider
/// type/message kept apart from ours; Retry-After (seconds or HTTP date), retry-after-ms,
/// x-should-retry and Gemini's RetryInfo.retryDelay parsed.
boost::system::error_code classify_http_error(std::string_view protocol, int status,
                                              const header_list& headers, std::string_view body,
                                              diagnostics& diag);

// ---- Claude Code CLI (stream-json over a pipe) ---------------------------------------------

/// The argv (without the program) for one call: -p --output-format stream-json --verbose
/// --include-partial-messages, --model, --system-prompt …; the prompt goes on stdin.
std::vector<std::string> claude_cli_args(const provider_config& cfg, const chat_request& req);
/// The text written to the CLI's stdin: the conversation rendered as one prompt.
std::string claude_cli_prompt(const chat_request& req);

/// Decodes the CLI's stdout (NDJSON, any split). Terminal marker: the `result` line.
/// `result.is_error` → provider_errc::cli_failed (api_error_status kept in diag).
std::unique_ptr<stream_decoder> make_claude_stream_json_decoder();

}  // namespace ep::providers::sansio
