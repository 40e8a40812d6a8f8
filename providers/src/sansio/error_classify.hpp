#pragma once
// Error classification shared by classify_http_error (non-2xx responses) and the stream
// decoders (errors sent inside a 200 stream), so both map the same provider type/code/status
// to the same provider_errc.

#include "json_util.hpp"
#include "wire.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace ep::providers::sansio {

/// Longest provider message kept in diagnostics (bytes, cut at a UTF-8 boundary).
constexpr std::size_t max_provider_message = 1000;

/// Classifies a provider error object (`{"type","message","code"}` for OpenAI/Anthropic,
/// `{"code","message","status","details"}` for Gemini). `status` is the HTTP status, or
/// nullopt for an in-stream error (a numeric `error.code` is then used as the status). Fills
/// diag.provider_type/provider_message/http_status and, for Gemini, retry_after from RetryInfo.
boost::system::error_code classify_error_object(std::string_view protocol, std::optional<int> status,
                                                const json& error, diagnostics& diag);

/// classify_http_error with an explicit "now" for HTTP-date Retry-After values (tests).
boost::system::error_code classify_http_error(std::string_view protocol, int status, const header_list& headers,
                                              std::string_view body, diagnostics& diag,
                                              std::chrono::system_clock::time_point now);

/// retry-after-ms, then retry-after (delta seconds, possibly fractional, or an HTTP date
/// relative to `now`; a date in the past gives 0). Nullopt when absent or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(const header_list& headers,
                                                           std::chrono::system_clock::time_point now);

/// A protobuf Duration in JSON form: "19s", "1.5s", "0.250s". Nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text);

/// An HTTP date (IMF-fixdate, RFC 850 or asctime form) as a time point.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

/// Cuts `text` to at most `max` bytes without splitting a UTF-8 character, adding "…".
std::string truncate_utf8(std::string_view text, std::size_t max = max_provider_message);

/// A readable one-line message from a non-JSON body (HTML page from a proxy, plain text).
std::string summarize_non_json_body(std::string_view body);

}  // namespace ep::providers::sansio
