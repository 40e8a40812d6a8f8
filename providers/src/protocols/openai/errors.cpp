// How OpenAI and the compatible servers say that a call failed or why it stopped.
#include "protocols/openai/openai.hpp"

namespace ep::providers::sansio {

namespace {

using enum provider_errc;

// Error types and codes seen from OpenAI (`type`/`code`) and the compatible servers that
// reuse its error shape (vLLM, llama.cpp, OpenRouter, Ollama).
constexpr error_type_row types[] = {
    {"server_error", overloaded},
    {"api_error", overloaded},
    {"timeout_error", overloaded},
    {"server_overloaded", overloaded},
    {"overloaded_error", overloaded},
    {"rate_limit_exceeded", rate_limited},
    {"rate_limit_error", rate_limited},
    {"tokens", rate_limited},
    {"requests", rate_limited},
    {"invalid_api_key", auth_failed},
    {"authentication_error", auth_failed},
    {"permission_error", auth_failed},
    {"invalid_request_error", invalid_request},
    {"not_found_error", invalid_request},
    {"model_not_found", invalid_request},
    {"BadRequestError", invalid_request},
    {"NotFoundError", invalid_request},
};

constexpr error_mapping mapping{"openai", types};

}  // namespace

const error_mapping& openai_errors() noexcept { return mapping; }

boost::system::error_code classify_openai_error(int status, const http_headers& headers, std::string_view body,
                                                diagnostics& diag)
{
    return classify_http_error(mapping, status, headers, body, diag);
}

finish_reason map_openai_finish(std::string_view raw) noexcept
{
    if (raw == "stop")
        return finish_reason::stop;
    if (raw == "length")
        return finish_reason::length;
    if (raw == "tool_calls" || raw == "function_call")
        return finish_reason::tool_calls;
    if (raw == "content_filter")
        return finish_reason::content_filter;
    return finish_reason::other;
}

}  // namespace ep::providers::sansio
