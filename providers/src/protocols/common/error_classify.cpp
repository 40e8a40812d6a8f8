#include "protocols/common/error_classify.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace ep::providers::sansio {

namespace {

using std::chrono::milliseconds;

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

// Messages by which OpenAI, Anthropic, Gemini and compatible servers say "prompt too long".
bool is_context_length_message(std::string_view lowered)
{
    static constexpr std::array patterns = {
        std::string_view("context_length_exceeded"),
        std::string_view("prompt is too long"),
        std::string_view("maximum context length"),
        std::string_view("context length"),
        std::string_view("context window"),
        std::string_view("exceeds the maximum number of tokens"),
        std::string_view("input token count"),
        std::string_view("too many tokens"),
        std::string_view("reduce the length of the messages"),
    };
    return std::any_of(patterns.begin(), patterns.end(), [&](auto p) { return contains(lowered, p); });
}

boost::system::error_code by_status(int status)
{
    switch (status)
    {
    case 401:
    case 402:  // billing: no credits (OpenRouter, Anthropic billing_error)
    case 403: return provider_errc::auth_failed;
    case 400:
    case 404:
    case 413:
    case 422: return provider_errc::invalid_request;
    case 408:
    case 409: return provider_errc::http_status;  // retryable by is_retryable
    case 429: return provider_errc::rate_limited;
    case 500:
    case 502:
    case 503:
    case 504:
    case 529: return provider_errc::overloaded;
    default: return provider_errc::http_status;
    }
}

// google.rpc error details (Gemini, and Google's OpenAI-compatible endpoint): ErrorInfo.reason
// and RetryInfo.retryDelay in error.details[]. Absent everywhere else, so always looked for.
void read_google_details(const json& error, std::string& reason, diagnostics& diag)
{
    auto const* details = member(error, "details");
    if (!details || !details->is_array())
        return;
    for (auto const& d : *details)
    {
        auto type = string_or(d, "@type");
        if (type.ends_with("RetryInfo"))
        {
            if (auto const* delay = string_member(d, "retryDelay"))
                if (auto ms = parse_proto_duration(*delay))
                    diag.retry_after = *ms;
        }
        else if (type.ends_with("ErrorInfo"))
            reason = string_or(d, "reason");
    }
}

std::optional<milliseconds> parse_seconds(std::string_view text)
{
    text = trim(text);
    if (text.empty())
        return std::nullopt;
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value) || value < 0 ||
        value > 1e9)
        return std::nullopt;
    return milliseconds(static_cast<std::int64_t>(std::llround(value * 1000.0)));
}

int month_index(std::string_view m)
{
    static constexpr std::array<std::string_view, 12> names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == m)
            return static_cast<int>(i) + 1;
    return 0;
}

}  // namespace

std::optional<provider_errc> error_mapping::by_type(std::string_view type) const noexcept
{
    if (type.empty())
        return std::nullopt;
    for (auto const& row : types)
        if (row.type == type)
            return row.errc;
    return std::nullopt;
}

std::string truncate_utf8(std::string_view text, std::size_t max)
{
    if (text.size() <= max)
        return std::string(text);
    std::size_t cut = max;
    // Step back over continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(text.substr(0, cut)) + "…";
}

std::string summarize_non_json_body(std::string_view body)
{
    std::string_view source = body;
    auto lowered = lower(body.substr(0, std::min<std::size_t>(body.size(), 64 * 1024)));
    if (auto t = lowered.find("<title>"); t != std::string::npos)
        if (auto e = lowered.find("</title>", t); e != std::string::npos)
            source = body.substr(t + 7, e - t - 7);
    std::string out;
    bool in_tag = false;
    bool space = false;
    for (char c : source)
    {
        if (c == '<')
            in_tag = true;
        else if (c == '>' && in_tag)
            in_tag = false;
        else if (!in_tag)
        {
            if (std::isspace(static_cast<unsigned char>(c)))
                space = !out.empty();
            else
            {
                if (space)
                    out.push_back(' ');
                space = false;
                out.push_back(c);
            }
        }
        if (out.size() > max_provider_message * 2)
            break;
    }
    return truncate_utf8(out);
}

std::optional<milliseconds> parse_proto_duration(std::string_view text)
{
    text = trim(text);
    if (text.size() < 2 || text.back() != 's')
        return std::nullopt;
    return parse_seconds(text.substr(0, text.size() - 1));
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text)
{
    text = trim(text);
    std::string s(text);
    char wday[16] = {}, mon[4] = {};
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    bool ok = std::sscanf(s.c_str(), "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT", wday, &day, mon, &year, &hh, &mm,
                          &ss) == 7;
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    if (!ok && std::sscanf(s.c_str(), "%15[A-Za-z], %2d-%3s-%4d %2d:%2d:%2d GMT", wday, &day, mon, &year, &hh, &mm,
                           &ss) == 7)
    {
        ok = true;
        if (year < 100)
            year += year < 70 ? 2000 : 1900;
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (!ok)
        ok = std::sscanf(s.c_str(), "%15[A-Za-z] %3s %d %2d:%2d:%2d %4d", wday, mon, &day, &hh, &mm, &ss, &year) == 7;
    if (!ok)
        return std::nullopt;
    int m = month_index(mon);
    if (m == 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return std::nullopt;
    // system_clock counts nanoseconds in 64 bits (1678–2262): a date outside 1970–2200 is no
    // Retry-After a server means, and converting it would overflow.
    if (year < 1970 || year > 2200)
        return std::nullopt;
    using namespace std::chrono;
    year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(m)),
                       std::chrono::day(static_cast<unsigned>(day))};
    if (!ymd.ok())
        return std::nullopt;
    return sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss);
}

std::optional<milliseconds> parse_retry_after(const http_headers& headers, std::chrono::system_clock::time_point now)
{
    // retry-after-ms first: it is more precise (the OpenAI and Anthropic SDKs do the same).
    if (auto const* ms = find_http_header(headers, "retry-after-ms"))
        if (auto v = parse_seconds(*ms))
            return milliseconds(v->count() / 1000);
    if (auto const* ra = find_http_header(headers, "retry-after"))
    {
        if (auto v = parse_seconds(*ra))
            return v;
        if (auto when = parse_http_date(*ra))
        {
            auto delta = std::chrono::duration_cast<milliseconds>(*when - now);
            return delta.count() > 0 ? delta : milliseconds(0);
        }
    }
    return std::nullopt;
}

boost::system::error_code classify_error_object(const error_mapping& mapping, std::optional<int> status,
                                                const json& error, diagnostics& diag)
{
    const std::string_view protocol = mapping.protocol;
    std::string type = string_or(error, "type");
    std::string code_text = string_or(error, "code");
    std::optional<std::int64_t> code_num = int_member(error, "code");
    std::string gemini_status = string_or(error, "status");
    std::string gemini_reason;
    read_google_details(error, gemini_reason, diag);

    if (auto const* msg = member(error, "message"))
        diag.provider_message = truncate_utf8(text_of(*msg));
    diag.provider_type = !type.empty() ? type : !gemini_status.empty() ? gemini_status : code_text;
    if (!code_text.empty() && code_text != diag.provider_type)
        diag.provider_type += "/" + code_text;

    if (!status && code_num && *code_num >= 100 && *code_num < 600)
        status = static_cast<int>(*code_num);  // Gemini/OpenRouter in-stream errors carry the HTTP code
    if (status)
        diag.http_status = *status;

    auto lowered_msg = lower(diag.provider_message);
    bool client_side = !status || (*status >= 400 && *status < 500) || *status == 200;

    if (client_side && (code_text == "context_length_exceeded" || type == "context_length_exceeded" ||
                        is_context_length_message(lowered_msg)))
        return provider_errc::context_length_exceeded;
    if (client_side && (code_text == "content_filter" || code_text == "content_policy_violation"))
        return provider_errc::content_filter;
    // Out of credits: retrying cannot help, another provider can. We report it as auth_failed
    // (not retryable, falls back) and say why in the message.
    if (type == "insufficient_quota" || code_text == "insufficient_quota" || code_text == "credit_balance_exhausted")
    {
        diag.message = std::string(protocol) + ": quota or credits exhausted (billing), not retried";
        return provider_errc::auth_failed;
    }
    if (gemini_reason == "API_KEY_INVALID" || gemini_reason == "API_KEY_SERVICE_BLOCKED")
        return provider_errc::auth_failed;
    if (status && *status != 200)
        return by_status(*status);
    if (auto e = mapping.by_type(type.empty() ? gemini_status : type))
        return *e;
    if (auto e = mapping.by_type(code_text))
        return *e;
    return provider_errc::http_status;
}

boost::system::error_code classify_http_error(const error_mapping& mapping, int status, const http_headers& headers,
                                              std::string_view body, diagnostics& diag,
                                              std::chrono::system_clock::time_point now)
{
    const std::string_view protocol = mapping.protocol;
    diag.message = std::string(protocol) + " answered HTTP " + std::to_string(status);
    diag.http_status = status;

    auto parsed = parse_json(body);
    // Gemini sometimes wraps the error body in a one-element array.
    if (parsed.is_array() && parsed.size() == 1)
        parsed = parsed.front();

    boost::system::error_code ec;
    if (auto const* err = member(parsed, "error"); err && err->is_object())
        ec = classify_error_object(mapping, status, *err, diag);
    else if (auto const* err_text = string_member(parsed, "error"))
    {
        // Ollama/llama.cpp style: {"error":"message"}.
        diag.provider_message = truncate_utf8(*err_text);
        ec = classify_error_object(mapping, status, json{{"message", *err_text}}, diag);
    }
    else if (parsed.is_object() && member(parsed, "message"))
        ec = classify_error_object(mapping, status, parsed, diag);  // vLLM {"object":"error",…}
    else
    {
        diag.provider_message = summarize_non_json_body(body);  // HTML/plain text from a proxy
        ec = classify_error_object(mapping, status, json{{"message", diag.provider_message}}, diag);
    }
    diag.http_status = status;

    if (auto ra = parse_retry_after(headers, now))
        diag.retry_after = *ra;  // headers win over a body hint
    if (auto const* sr = find_http_header(headers, "x-should-retry"))
    {
        auto v = lower(trim(*sr));
        if (v == "true")
            diag.should_retry = true;
        else if (v == "false")
            diag.should_retry = false;
    }
    return ec;
}

boost::system::error_code classify_http_error(const error_mapping& mapping, int status, const http_headers& headers,
                                              std::string_view body, diagnostics& diag)
{
    return classify_http_error(mapping, status, headers, body, diag, std::chrono::system_clock::now());
}

}  // namespace ep::providers::sansio
