// Provider error classification on arbitrary error responses, for every protocol. Input layout
// (an HTTP response without its "HTTP/1.1" prefix, so seeds read like real ones):
//
//   STATUS
//   Header-Name: value        (any number of lines; \n or \r\n)
//
//   BODY
//
// The status, headers and body go through classify_openai_error, classify_responses_error,
// classify_anthropic_error and classify_gemini_error; the body, when it is JSON, also through
// classify_claude_cli_result (as the CLI's `result` line), and every sent error object through
// classify_error_object (the decoders' in-stream path).
// Checked: no crash, no exception, no sanitizer report (integer overflow included); an error
// response is always classified as an error and keeps its status; the provider's message is
// bounded (max_provider_message); a Retry-After is never negative.
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/gemini/gemini.hpp"
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

namespace pv = ep::providers;
namespace sansio = ep::providers::sansio;

void check(bool invariant)
{
    if (!invariant)
        std::abort();
}

struct error_response
{
    int status = 0;
    pv::http_headers headers;
    std::string_view body;
};

std::string_view next_line(std::string_view& text)
{
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

error_response read_response(std::string_view text)
{
    error_response r;
    const auto status = next_line(text);
    std::from_chars(status.data(), status.data() + status.size(), r.status);
    while (!text.empty())
    {
        const auto line = next_line(text);
        if (line.empty())
            break;
        const auto colon = line.find(':');
        auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.remove_prefix(1);
        r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    r.body = text;
    return r;
}

void check_diagnostics(const pv::diagnostics& diag)
{
    // truncate_utf8 keeps at most max_provider_message bytes and adds "…" (3 bytes).
    check(diag.provider_message.size() <= sansio::max_provider_message + 3);
    check(!diag.retry_after || diag.retry_after->count() >= 0);
    (void)diag.to_string();
}

using classifier = boost::system::error_code (*)(int, const pv::http_headers&, std::string_view, pv::diagnostics&);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto r = read_response(std::string_view(reinterpret_cast<const char*>(data), size));
    for (classifier classify : {&sansio::classify_openai_error, &sansio::classify_responses_error,
                                &sansio::classify_anthropic_error, &sansio::classify_gemini_error})
    {
        pv::diagnostics diag;
        const auto ec = classify(r.status, r.headers, r.body, diag);
        check(ec.failed() && diag.http_status == r.status && !diag.message.empty());
        check_diagnostics(diag);
    }
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded())
        return 0;
    pv::diagnostics cli;
    check(sansio::classify_claude_cli_result(body, r.headers.empty() ? "" : r.headers.front().second, cli).failed());
    check_diagnostics(cli);
    if (body.is_object() && body.contains("error") && body["error"].is_object())
        for (const auto* mapping : {&sansio::openai_errors(), &sansio::anthropic_errors(), &sansio::gemini_errors()})
        {
            pv::diagnostics diag;
            check(sansio::classify_error_object(*mapping, std::nullopt, body["error"], diag).failed());
            check_diagnostics(diag);
        }
    return 0;
}
