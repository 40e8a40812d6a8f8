#pragma once
// The seam between the sans-I/O protocol code (this folder) and the adapters that do the I/O:
// a wire protocol is a codec — requests described as plain data, responses fed in as bytes,
// error responses classified — and the codec table maps a provider `type` to its codec.
// Adding a protocol is adding a folder under protocols/ and a row to the table
// (codec_table.cpp). Nothing here touches a socket, a timer or a process.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/http_types.hpp>
#include <ep/providers/types.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ep::providers::sansio {

/// Turns the bytes of a successful streaming response (an SSE body, or a CLI's stdout) into
/// normalised stream events.
class stream_decoder
{
public:
    virtual ~stream_decoder() = default;

    /// Feeds the next bytes (any split, even inside a UTF-8 character). Appends decoded
    /// events to `out`. Returns an error (with `diag` filled) for an in-stream provider error
    /// or a malformed event; after an error the decoder must not be fed again.
    virtual boost::system::error_code feed(std::string_view bytes, std::vector<stream_event>& out,
                                           diagnostics& diag) = 0;

    /// The body ended. Returns provider_errc::stream_truncated unless the provider's terminal
    /// marker was seen; may append final events (e.g. the finish_event).
    virtual boost::system::error_code finish(std::vector<stream_event>& out, diagnostics& diag) = 0;

    /// The terminal marker has been seen (the transport may stop reading).
    virtual bool done() const noexcept = 0;

    /// The model has begun its answer: some content (text, reasoning, a tool call, or the
    /// start of a content block) has been decoded. What the first_token timeout waits for;
    /// keep-alives, usage and metadata do not count.
    virtual bool content_started() const noexcept = 0;
};

/// A protocol spoken over HTTP (the transport is http_exchange).
struct http_codec
{
    /// The streaming request. `base_path` is the path of the configured base URL ("/v1",
    /// "", "/v1beta", …).
    http_request (*encode)(const provider_config& cfg, std::string_view base_path, const chat_request& req);
    std::unique_ptr<stream_decoder> (*make_decoder)();
    /// Classifies a non-2xx response (status, headers, whole body) into a provider_errc plus
    /// diagnostics (error_classify.hpp).
    boost::system::error_code (*classify_error)(int status, const http_headers& headers, std::string_view body,
                                                diagnostics& diag);
};

/// A protocol spoken by a child process: argv, the text written to its stdin, and a decoder
/// of its stdout.
struct cli_codec
{
    std::vector<std::string> (*args)(const provider_config& cfg, const chat_request& req);
    std::string (*stdin_text)(const chat_request& req);
    std::unique_ptr<stream_decoder> (*make_decoder)();
};

/// One row of the codec table.
struct protocol_entry
{
    std::string_view type;  // provider_config::type, e.g. "openai"
    std::variant<http_codec, cli_codec> codec;
    /// Reads the options only this type has (azure_api_version, cli, …) from a provider's
    /// configuration node into `cfg`, setting only the fields present; appends a message per
    /// bad value to `errors`. Null when the type has none.
    void (*parse_options)(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors);
    /// Option keys read by parse_options (an option of another type is reported as misplaced).
    std::span<const std::string_view> (*option_keys)() noexcept;
};

/// Every protocol EP speaks, in a stable order.
std::span<const protocol_entry> protocol_table() noexcept;

/// The row for `type`, or nullptr.
const protocol_entry* find_protocol(std::string_view type) noexcept;

}  // namespace ep::providers::sansio
