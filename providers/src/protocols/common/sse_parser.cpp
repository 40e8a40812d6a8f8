#include "protocols/common/sse_parser.hpp"

#include <cstring>

namespace ep::providers::sansio {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// Position of the first CR or LF in [p, end), or end. memchr is vectorised by libc, which is
// what keeps the parser far above the JSON decoding cost on long data lines.
const char* find_eol(const char* p, const char* end) noexcept
{
    auto n = static_cast<std::size_t>(end - p);
    auto const* lf = static_cast<const char*>(std::memchr(p, '\n', n));
    // Only look for CR before the LF: most streams have none, so this scans the line once more.
    auto const* limit = lf ? lf : end;
    auto const* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(limit - p)));
    if (cr)
        return cr;
    return limit;
}

bool all_digits(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 18)
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

}  // namespace

boost::system::error_code sse_parser::line_too_long(diagnostics& diag) const
{
    diag.message = "SSE line longer than " + std::to_string(max_line_) + " bytes";
    return provider_errc::malformed_event;
}

boost::system::error_code sse_parser::feed(std::string_view bytes, sse_sink& sink, diagnostics& diag)
{
    bytes_seen_ += bytes.size();
    const char* p = bytes.data();
    const char* const end = p + bytes.size();

    if (skip_lf_ && p != end)
    {
        skip_lf_ = false;
        if (*p == '\n')
            ++p;
    }

    while (p != end)
    {
        const char* eol = find_eol(p, end);
        if (eol == end)
        {
            // Incomplete line: keep it for the next feed.
            if (pending_.size() + static_cast<std::size_t>(end - p) > max_line_)
                return line_too_long(diag);
            pending_.append(p, end);
            break;
        }

        boost::system::error_code ec;
        if (pending_.empty())
        {
            if (static_cast<std::size_t>(eol - p) > max_line_)
                return line_too_long(diag);
            ec = process_line(std::string_view(p, static_cast<std::size_t>(eol - p)), sink);
        }
        else
        {
            if (pending_.size() + static_cast<std::size_t>(eol - p) > max_line_)
                return line_too_long(diag);
            pending_.append(p, eol);
            ec = process_line(pending_, sink);
            pending_.clear();
        }
        if (ec)
            return ec;

        p = eol + 1;
        if (*eol == '\r')
        {
            if (p == end)
                skip_lf_ = true;  // the LF of a CRLF may start the next feed
            else if (*p == '\n')
                ++p;
        }
    }
    return {};
}

boost::system::error_code sse_parser::process_line(std::string_view line, sse_sink& sink)
{
    if (first_line_)
    {
        first_line_ = false;
        if (line.substr(0, utf8_bom.size()) == utf8_bom)
            line.remove_prefix(utf8_bom.size());
    }

    if (line.empty())
        return dispatch(sink);
    if (line.front() == ':')
        return {};  // comment (keep-alives such as ": OPENROUTER PROCESSING")

    std::string_view field = line;
    std::string_view value;
    if (auto colon = line.find(':'); colon != std::string_view::npos)
    {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
            value.remove_prefix(1);
    }

    if (field == "data")
    {
        if (has_data_)
            ev_.data.push_back('\n');
        ev_.data.append(value);
        has_data_ = true;
    }
    else if (field == "event")
        ev_.event.assign(value);
    else if (field == "id")
    {
        if (value.find('\0') == std::string_view::npos)
            ev_.id.assign(value);
    }
    else if (field == "retry")
    {
        if (all_digits(value))
        {
            std::int64_t v = 0;
            for (char c : value)
                v = v * 10 + (c - '0');
            ev_.retry = v;
        }
    }
    // Any other field is ignored, as the standard says.
    return {};
}

boost::system::error_code sse_parser::dispatch(sse_sink& sink)
{
    boost::system::error_code ec;
    // An event with no data field is not dispatched (its event type is reset).
    if (has_data_)
    {
        ec = sink.on_event(ev_);
        ev_.retry.reset();  // reported once, on the next dispatched event
    }
    ev_.data.clear();
    ev_.event.clear();
    has_data_ = false;
    return ec;
}

}  // namespace ep::providers::sansio
