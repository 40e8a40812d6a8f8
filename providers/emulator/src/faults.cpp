#include "ep/emulator/faults.hpp"

#include <charconv>
#include <vector>

namespace ep::emulator {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true)
    {
        auto pos = text.find(sep, start);
        out.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos)
            break;
        start = pos + 1;
    }
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::optional<int> to_int(std::string_view s)
{
    int value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || ptr != s.data() + s.size() || value < 0)
        return std::nullopt;
    return value;
}

bool fail(std::string* error, std::string message)
{
    if (error)
        *error = std::move(message);
    return false;
}

// The head of a spec ("cut:3", "429") sets the kind and its numeric argument.
bool parse_head(std::string_view head, fault_spec& spec, std::string* error)
{
    std::string_view name = head;
    std::optional<std::string_view> arg;
    if (auto colon = head.find(':'); colon != std::string_view::npos)
    {
        name = head.substr(0, colon);
        arg = head.substr(colon + 1);
    }
    std::optional<int> number;
    if (arg)
    {
        number = to_int(*arg);
        if (!number)
            return fail(error, "fault argument is not a non-negative integer: '" + std::string(*arg) + "'");
    }

    if (auto status = to_int(name))
    {
        if (*status < 400 || *status > 599 || arg)
            return fail(error, "fault status must be 400-599: '" + std::string(head) + "'");
        spec.kind = fault_kind::http_status;
        spec.status = static_cast<unsigned>(*status);
        return true;
    }
    struct entry
    {
        std::string_view name;
        fault_kind kind;
    };
    static constexpr entry names[] = {
        {"reset", fault_kind::reset_before_headers},
        {"no-response", fault_kind::no_response},
        {"slow", fault_kind::slow_first_token},
        {"first-token", fault_kind::late_first_content},
        {"cut", fault_kind::cut_stream},
        {"stall", fault_kind::stall},
        {"malformed", fault_kind::malformed_event},
        {"no-terminal", fault_kind::missing_terminal},
        {"no-done", fault_kind::missing_terminal},
        {"context-length", fault_kind::context_length},
        {"content-filter", fault_kind::content_filter},
        {"overloaded", fault_kind::overloaded},
    };
    for (const auto& e : names)
    {
        if (e.name != name)
            continue;
        spec.kind = e.kind;
        if (e.kind == fault_kind::malformed_event)
            spec.after_events = 1;
        if (number)
        {
            if (e.kind == fault_kind::slow_first_token || e.kind == fault_kind::late_first_content)
                spec.delay_ms = *number;
            else if (e.kind == fault_kind::cut_stream || e.kind == fault_kind::stall ||
                     e.kind == fault_kind::malformed_event || e.kind == fault_kind::overloaded)
                spec.after_events = *number;
            else
                return fail(error, "fault '" + std::string(name) + "' takes no argument");
        }
        return true;
    }
    return fail(error, "unknown fault '" + std::string(name) + "'");
}

}  // namespace

std::string_view to_string(fault_kind kind) noexcept
{
    switch (kind)
    {
    case fault_kind::none: return "none";
    case fault_kind::http_status: return "http_status";
    case fault_kind::reset_before_headers: return "reset_before_headers";
    case fault_kind::no_response: return "no_response";
    case fault_kind::slow_first_token: return "slow_first_token";
    case fault_kind::late_first_content: return "late_first_content";
    case fault_kind::cut_stream: return "cut_stream";
    case fault_kind::stall: return "stall";
    case fault_kind::malformed_event: return "malformed_event";
    case fault_kind::missing_terminal: return "missing_terminal";
    case fault_kind::context_length: return "context_length";
    case fault_kind::content_filter: return "content_filter";
    case fault_kind::overloaded: return "overloaded";
    }
    return "unknown";
}

std::string fault_spec::to_string() const
{
    std::string out;
    switch (kind)
    {
    case fault_kind::none: out = "none"; break;
    case fault_kind::http_status: out = std::to_string(status); break;
    case fault_kind::reset_before_headers: out = "reset"; break;
    case fault_kind::no_response: out = "no-response"; break;
    case fault_kind::slow_first_token: out = "slow:" + std::to_string(delay_ms); break;
    case fault_kind::late_first_content: out = "first-token:" + std::to_string(delay_ms); break;
    case fault_kind::cut_stream: out = "cut:" + std::to_string(after_events); break;
    case fault_kind::stall: out = "stall:" + std::to_string(after_events); break;
    case fault_kind::malformed_event: out = "malformed:" + std::to_string(after_events); break;
    case fault_kind::missing_terminal: out = "no-terminal"; break;
    case fault_kind::context_length: out = "context-length"; break;
    case fault_kind::content_filter: out = "content-filter"; break;
    case fault_kind::overloaded: out = "overloaded:" + std::to_string(after_events); break;
    }
    if (stall_ms)
        out += ",for=" + std::to_string(*stall_ms);
    if (retry_after_s)
        out += ",retry-after=" + std::to_string(*retry_after_s);
    if (retry_after_ms)
        out += ",retry-after-ms=" + std::to_string(*retry_after_ms);
    if (times)
        out += ",times=" + std::to_string(*times);
    return out;
}

std::optional<fault_spec> parse_fault_spec(std::string_view text, std::string* error)
{
    auto parts = split(trim(text), ',');
    fault_spec spec;
    if (!parse_head(trim(parts.front()), spec, error))
        return std::nullopt;
    for (std::size_t i = 1; i < parts.size(); ++i)
    {
        auto part = trim(parts[i]);
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
        {
            fail(error, "fault option needs key=value: '" + std::string(part) + "'");
            return std::nullopt;
        }
        auto key = part.substr(0, eq);
        auto value = to_int(part.substr(eq + 1));
        if (!value)
        {
            fail(error, "fault option value is not a non-negative integer: '" + std::string(part) + "'");
            return std::nullopt;
        }
        if (key == "retry-after" && spec.kind == fault_kind::http_status)
            spec.retry_after_s = *value;
        else if (key == "retry-after-ms" && spec.kind == fault_kind::http_status)
            spec.retry_after_ms = *value;
        else if (key == "times")
            spec.times = *value;
        else if (key == "for" && spec.kind == fault_kind::stall)
            spec.stall_ms = *value;
        else
        {
            fail(error, "unknown fault option '" + std::string(key) + "' for this fault");
            return std::nullopt;
        }
    }
    return spec;
}

}  // namespace ep::emulator
