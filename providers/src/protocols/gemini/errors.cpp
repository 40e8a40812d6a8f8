// How the Gemini API says that a call failed (google.rpc status names) or why it stopped.
#include "protocols/gemini/gemini.hpp"

namespace ep::providers::sansio {

namespace {

using enum provider_errc;

// error.status values (google.rpc.Code names) of the Gemini API's error table.
constexpr error_type_row types[] = {
    {"INTERNAL", overloaded},
    {"UNAVAILABLE", overloaded},
    {"DEADLINE_EXCEEDED", overloaded},
    {"RESOURCE_EXHAUSTED", rate_limited},
    {"UNAUTHENTICATED", auth_failed},
    {"PERMISSION_DENIED", auth_failed},
    {"INVALID_ARGUMENT", invalid_request},
    {"NOT_FOUND", invalid_request},
    {"FAILED_PRECONDITION", invalid_request},
};

constexpr error_mapping mapping{"gemini", types};

}  // namespace

const error_mapping& gemini_errors() noexcept { return mapping; }

boost::system::error_code classify_gemini_error(int status, const http_headers& headers, std::string_view body,
                                                diagnostics& diag)
{
    return classify_http_error(mapping, status, headers, body, diag);
}

finish_reason map_gemini_finish(std::string_view raw) noexcept
{
    if (raw == "STOP")
        return finish_reason::stop;
    if (raw == "MAX_TOKENS")
        return finish_reason::length;
    if (raw == "SAFETY" || raw == "RECITATION" || raw == "BLOCKLIST" || raw == "PROHIBITED_CONTENT" ||
        raw == "SPII" || raw == "IMAGE_SAFETY" || raw == "LANGUAGE" || raw == "IMAGE_PROHIBITED_CONTENT" ||
        raw == "IMAGE_RECITATION")
        return finish_reason::content_filter;
    return finish_reason::other;  // MALFORMED_FUNCTION_CALL, OTHER, FINISH_REASON_UNSPECIFIED, …
}

}  // namespace ep::providers::sansio
