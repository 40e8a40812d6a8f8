// How the Claude Code CLI reports a failed call: its last (`result`) line says is_error,
// with the API's HTTP status in api_error_status since CLI 2.1.110.
#include "protocols/claude_cli/claude_cli.hpp"

#include "protocols/common/error_classify.hpp"

namespace ep::providers::sansio {

boost::system::error_code classify_claude_cli_result(const json& result, std::string_view assistant_error,
                                                     diagnostics& diag)
{
    auto subtype = string_or(result, "subtype");
    diag.provider_type = subtype.empty() ? std::string(assistant_error) : subtype;
    std::string message = string_or(result, "result");
    if (auto const* errors = member(result, "errors"); errors && errors->is_array())
        for (auto const& e : *errors)
            message += (message.empty() ? "" : "; ") + text_of(e);
    diag.provider_message = truncate_utf8(message);
    diag.message = "claude: the CLI reported an error";
    if (auto status = int_member(result, "api_error_status"))
    {
        diag.http_status = static_cast<int>(*status);
        if (*status == 429)
            return provider_errc::rate_limited;
        if (*status >= 500)
            return provider_errc::overloaded;
        if (*status == 401 || *status == 403)
            return provider_errc::auth_failed;
    }
    return provider_errc::cli_failed;
}

}  // namespace ep::providers::sansio
