#include "postgres/text.hpp"

#include <cstddef>

namespace ep::persistence::postgres {

namespace {

constexpr const char* replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 if there is none. NUL counts as invalid here.
std::size_t valid_sequence(const std::string& s, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 >= 0x01 && b0 <= 0x7F)
        return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        len = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
    {
        len = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;  // overlong
        hi = b0 == 0xED ? 0x9F : 0xBF;  // surrogates
    }
    else if (b0 >= 0xF0 && b0 <= 0xF4)
    {
        len = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;  // overlong
        hi = b0 == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
    }
    else
        return 0;
    if (i + len > s.size())
        return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi)
        return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
            return 0;
    return len;
}

}  // namespace

std::string storable_text(const std::string& text)
{
    std::size_t i = 0;
    std::size_t n = 0;
    while (i < text.size() && (n = valid_sequence(text, i)) != 0)
        i += n;
    if (i == text.size())
        return text;  // the common case: nothing to replace
    std::string out = text.substr(0, i);
    while (i < text.size())
    {
        n = valid_sequence(text, i);
        if (n == 0)
        {
            out += replacement;
            ++i;
        }
        else
        {
            out.append(text, i, n);
            i += n;
        }
    }
    return out;
}

}  // namespace ep::persistence::postgres
