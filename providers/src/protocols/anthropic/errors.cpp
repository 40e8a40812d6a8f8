// How the Messages API says that a call failed (its error types) or why it stopped.
#include "protocols/anthropic/anthropic.hpp"

namespace ep::providers::sansio {

namespace {

using enum provider_errc;

// The `error.type` values of the Messages API's error table; an in-stream `event: error`
// carries the type a non-streamed call would have had as its status.
constexpr error_type_row types[] = {
    {"overloaded_error", overloaded},
    {"api_error", overloaded},
    {"timeout_error", overloaded},
    {"rate_limit_error", rate_limited},
    {"authentication_error", auth_failed},
    {"permission_error", auth_failed},
    {"billing_error", auth_failed},
    {"invalid_request_error", invalid_request},
    {"not_found_error", invalid_request},
    {"request_too_large", invalid_request},
};

constexpr error_mapping mapping{"anthropic", types};

}  // namespace

const error_mapping& anthropic_errors() noexcept { return mapping; }

boost::system::error_code classify_anthropic_error(int status, const http_headers& headers, std::string_view body,
                                                   diagnostics& diag)
{
    return classify_http_error(mapping, status, headers, body, diag);
}

finish_reason map_anthropic_stop(std::string_view raw) noexcept
{
    if (raw == "end_turn" || raw == "stop_sequence")
        return finish_reason::stop;
    // model_context_window_exceeded: the answer was cut by the window, like max_tokens.
    if (raw == "max_tokens" || raw == "model_context_window_exceeded")
        return finish_reason::length;
    if (raw == "tool_use")
        return finish_reason::tool_calls;
    if (raw == "refusal")
        return finish_reason::content_filter;
    return finish_reason::other;  // pause_turn and anything newer
}

}  // namespace ep::providers::sansio
