#pragma once
// Error classification shared by every protocol: non-2xx responses (classify_http_error) and
// errors sent inside a 200 stream (classify_error_object, called by the decoders), so both map
// the same status/type/code to the same provider_errc. What differs per protocol — its error
// type vocabulary — comes in an error_mapping from the protocol's folder.

#include "protocols/common/json_util.hpp"

#include <ep/providers/error.hpp>
#include <ep/providers/http_types.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string_view>

namespace ep::providers::sansio {

/// One word of a protocol's error vocabulary: an error `type`, `code` or status name.
struct error_type_row
{
    std::string_view type;
    provider_errc errc;
};

/// What a protocol contributes to classification.
struct error_mapping
{
    std::string_view protocol;  // "openai", "anthropic", … (starts our messages)
    /// The protocol's error types (or status/code strings) and what they mean, for errors that
    /// carry no HTTP status (in-stream errors) or whose status alone does not decide.
    std::span<const error_type_row> types;

    std::optional<provider_errc> by_type(std::string_view type) const noexcept;
};

/// Longest provider message kept in diagnostics (bytes, cut at a UTF-8 boundary).
constexpr std::size_t max_provider_message = 1000;

/// Classifies a provider error object (`{"type","message","code"}` for OpenAI/Anthropic,
/// `{"code","message","status","details"}` for Gemini). `status` is the HTTP status, or
/// nullopt for an in-stream error (a numeric `error.code` is then used as the status). Fills
/// diag.provider_type/provider_message/http_status and, for Gemini, retry_after from RetryInfo.
boost::system::error_code classify_error_object(const error_mapping& mapping, std::optional<int> status,
                                                const json& error, diagnostics& diag);

/// Classifies a non-2xx response (status, headers, whole body): provider type/message kept
/// apart from ours; Retry-After (seconds or HTTP date), retry-after-ms, x-should-retry and
/// google.rpc RetryInfo.retryDelay parsed.
boost::system::error_code classify_http_error(const error_mapping& mapping, int status, const http_headers& headers,
                                              std::string_view body, diagnostics& diag);

/// classify_http_error with an explicit "now" for HTTP-date Retry-After values (tests).
boost::system::error_code classify_http_error(const error_mapping& mapping, int status, const http_headers& headers,
                                              std::string_view body, diagnostics& diag,
                                              std::chrono::system_clock::time_point now);

/// retry-after-ms, then retry-after (delta seconds, possibly fractional, or an HTTP date
/// relative to `now`; a date in the past gives 0). Nullopt when absent or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(const http_headers& headers,
                                                           std::chrono::system_clock::time_point now);

/// A protobuf Duration in JSON form: "19s", "1.5s", "0.250s". Nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text);

/// An HTTP date (IMF-fixdate, RFC 850 or asctime form) as a time point; nullopt outside the
/// years 1970–2200.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

/// Cuts `text` to at most `max` bytes without splitting a UTF-8 character, adding "…".
std::string truncate_utf8(std::string_view text, std::size_t max = max_provider_message);

/// A readable one-line message from a non-JSON body (HTML page from a proxy, plain text).
std::string summarize_non_json_body(std::string_view body);

}  // namespace ep::providers::sansio
