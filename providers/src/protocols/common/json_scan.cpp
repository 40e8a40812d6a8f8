#include "protocols/common/json_scan.hpp"

#include <array>

namespace ep::providers::sansio {

namespace {

// Bytes a string can hold as they are: printable ASCII other than '"' and '\'. Everything
// else (quote, backslash, control, non-ASCII) needs a closer look, so the common run of
// plain text is one table lookup per byte.
constexpr std::array<bool, 256> plain_string_bytes = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c)
        t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
}();

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool in(unsigned char c, unsigned char lo, unsigned char hi) noexcept { return c >= lo && c <= hi; }
bool in_high_surrogate(std::uint32_t cp) noexcept { return cp >= 0xD800 && cp <= 0xDBFF; }
bool in_low_surrogate(std::uint32_t cp) noexcept { return cp >= 0xDC00 && cp <= 0xDFFF; }

void append_utf8(std::uint32_t cp, std::string& out)
{
    if (cp < 0x80)
        out.push_back(static_cast<char>(cp));
    else if (cp < 0x800)
    {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    else if (cp < 0x10000)
    {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    else
    {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Four hex digits at p (validated by the scanner).
std::uint32_t read_hex4(const char* p) noexcept
{
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i)
        cp = cp << 4 | static_cast<std::uint32_t>(hex_value(p[i]));
    return cp;
}

}  // namespace

bool json_scanner::hex4(std::uint32_t& cp) noexcept
{
    if (end_ - p_ < 4)
        return false;
    cp = 0;
    for (int i = 0; i < 4; ++i)
    {
        int v = hex_value(p_[i]);
        if (v < 0)
            return false;
        cp = cp << 4 | static_cast<std::uint32_t>(v);
    }
    p_ += 4;
    return true;
}

// After the backslash. nlohmann rejects a lone surrogate of either kind.
bool json_scanner::escape() noexcept
{
    if (p_ == end_)
        return false;
    switch (*p_++)
    {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return true;
    case 'u':
    {
        std::uint32_t cp = 0;
        if (!hex4(cp) || in_low_surrogate(cp))
            return false;
        if (!in_high_surrogate(cp))
            return true;
        std::uint32_t low = 0;
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
            return false;
        p_ += 2;
        return hex4(low) && in_low_surrogate(low);
    }
    default:
        return false;
    }
}

// One multi-byte UTF-8 character at p_, with exactly the well-formed ranges of RFC 3629
// (no overlongs, no encoded surrogates, nothing above U+10FFFF), as nlohmann checks.
bool json_scanner::utf8_sequence() noexcept
{
    auto const* u = reinterpret_cast<const unsigned char*>(p_);
    auto left = end_ - p_;
    unsigned char c = u[0];
    int tail = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (in(c, 0xC2, 0xDF))
        tail = 1;
    else if (in(c, 0xE0, 0xEF))
    {
        tail = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    }
    else if (in(c, 0xF0, 0xF4))
    {
        tail = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    }
    else
        return false;
    if (left <= tail || !in(u[1], lo, hi))
        return false;
    for (int i = 2; i <= tail; ++i)
        if (!in(u[i], 0x80, 0xBF))
            return false;
    p_ += tail + 1;
    return true;
}

bool json_scanner::string(std::string_view& raw, bool& escaped) noexcept
{
    if (!next_is('"'))
        return false;
    const char* start = ++p_;
    escaped = false;
    for (;;)
    {
        while (p_ != end_ && plain_string_bytes[static_cast<unsigned char>(*p_)])
            ++p_;
        if (p_ == end_)
            return false;
        auto c = static_cast<unsigned char>(*p_);
        if (c == '"')
        {
            raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
            ++p_;
            return true;
        }
        if (c == '\\')
        {
            escaped = true;
            ++p_;
            if (!escape())
                return false;
        }
        else if (c < 0x20 || !utf8_sequence())
            return false;
    }
}

bool json_scanner::number(std::string_view& token) noexcept
{
    skip_ws();
    const char* start = p_;
    if (p_ != end_ && *p_ == '-')
        ++p_;
    if (p_ == end_ || !is_digit(*p_))
        return false;
    const char* int_start = p_;
    if (*p_ == '0')
        ++p_;
    else
        while (p_ != end_ && is_digit(*p_))
            ++p_;
    if (p_ - int_start > 100)
        return false;
    if (p_ != end_ && *p_ == '.')
    {
        ++p_;
        if (p_ == end_ || !is_digit(*p_))
            return false;
        while (p_ != end_ && is_digit(*p_))
            ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E'))
    {
        ++p_;
        if (p_ != end_ && (*p_ == '+' || *p_ == '-'))
            ++p_;
        const char* exp_start = p_;
        while (p_ != end_ && is_digit(*p_))
            ++p_;
        if (p_ == exp_start || p_ - exp_start > 2)
            return false;
    }
    token = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
}

bool json_scanner::literal(std::string_view word) noexcept
{
    skip_ws();
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
        return false;
    p_ += word.size();
    return true;
}

bool json_scanner::skip_value(int depth) noexcept
{
    // Deeper than any chunk we expect: not worth a recursion risk, let nlohmann have it.
    if (depth > 32)
        return false;
    skip_ws();
    if (p_ == end_)
        return false;
    switch (*p_)
    {
    case '{':
        return object([&](std::string_view) { return skip_value(depth + 1); });
    case '[':
        return array([&] { return skip_value(depth + 1); });
    case '"':
    {
        std::string_view raw;
        bool escaped = false;
        return string(raw, escaped);
    }
    case 't':
        return literal("true");
    case 'f':
        return literal("false");
    case 'n':
        return literal("null");
    default:
    {
        std::string_view token;
        return number(token);
    }
    }
}

void append_unescaped(std::string_view raw, std::string& out)
{
    out.reserve(out.size() + raw.size());
    std::size_t i = 0;
    while (i < raw.size())
    {
        auto bs = raw.find('\\', i);
        if (bs == std::string_view::npos)
            bs = raw.size();
        out.append(raw, i, bs - i);
        if (bs == raw.size())
            break;
        char c = raw[bs + 1];
        i = bs + 2;
        switch (c)
        {
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u':
        {
            std::uint32_t cp = read_hex4(raw.data() + i);
            i += 4;
            if (in_high_surrogate(cp))  // the scanner saw the \uDC00..DFFF that follows
            {
                std::uint32_t low = read_hex4(raw.data() + i + 2);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(cp, out);
            break;
        }
        default: out.push_back(c); break;  // '"', '\\', '/'
        }
    }
}

}  // namespace ep::providers::sansio
