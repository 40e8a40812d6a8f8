#pragma once
// provider_errc: what went wrong with one provider call, as an error_code, plus
// `diagnostics` that keep our own message apart from the provider's untrusted body.

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace ep::providers {

enum class provider_errc
{
    http_status = 1,          // any other non-2xx status
    auth_failed,              // 401/403 (and Gemini API_KEY_INVALID)
    invalid_request,          // 400/404/413/422: our request is wrong; never retried
    rate_limited,             // 429
    overloaded,               // 5xx/529 or in-stream overload
    context_length_exceeded,  // prompt too long for this model
    content_filter,           // blocked by the provider's safety system
    malformed_event,          // the stream contained something we cannot parse
    connect_failed,           // DNS, refused, reset before any response
    connect_timeout,
    first_byte_timeout,
    idle_timeout,
    total_timeout,
    stream_truncated,         // the stream ended without its terminal event
    tls_failed,               // handshake or certificate verification failed
    cli_missing,              // the Claude Code CLI was not found
    cli_failed,               // the CLI exited non-zero or reported is_error
    unavailable,              // no credentials / base URL for this provider
    first_token_timeout,      // no content within timeout_config::first_token (headers may have come)
};

const boost::system::error_category& provider_category() noexcept;

inline boost::system::error_code make_error_code(provider_errc e) noexcept
{
    return {static_cast<int>(e), provider_category()};
}

/// Details of a failure. `message` is ours (safe to show); the provider_* fields are copied
/// from the provider's response (untrusted, shown quoted); none ever contains a credential.
struct diagnostics
{
    std::string message;                 // our explanation, e.g. "first byte not received within 60s"
    std::optional<int> http_status;      // HTTP status, or the in-stream error code
    std::string provider_type;           // e.g. "overloaded_error", "RESOURCE_EXHAUSTED"
    std::string provider_message;        // the provider's error.message
    std::optional<std::chrono::milliseconds> retry_after;  // Retry-After / retry-after-ms / retryDelay
    std::optional<bool> should_retry;    // x-should-retry header, when present

    /// One line for logs and events: our message, then the provider's status/type/message.
    std::string to_string() const;
};

/// Retrying the same model may succeed (429, 5xx, 529, overload, timeouts, truncation, resets).
bool is_retryable(boost::system::error_code ec) noexcept;
/// Another candidate may succeed where this one cannot (auth, context length, unavailable, CLI missing…).
bool should_fall_back(boost::system::error_code ec) noexcept;

}  // namespace ep::providers

template <>
struct boost::system::is_error_code_enum<ep::providers::provider_errc> : std::true_type
{
};
