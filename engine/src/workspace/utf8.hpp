#pragma once
// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), so that
// what the workspace pieces hand on — command output, tool results, paths in messages — can
// always be serialised as JSON.

#include <cstddef>
#include <string>
#include <string_view>

namespace ep::engine::detail {

/// The length of the valid sequence starting at s[i]; 0 when it is invalid or cut short.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept
{
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char b = at(0);
    if (b < 0x80)
        return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef)
    {
        n = 3;
        lo = b == 0xe0 ? 0xa0 : 0x80;
        hi = b == 0xed ? 0x9f : 0xbf;
    }
    else if (b >= 0xf0 && b <= 0xf4)
    {
        n = 4;
        lo = b == 0xf0 ? 0x90 : 0x80;
        hi = b == 0xf4 ? 0x8f : 0xbf;
    }
    else
        return 0;
    if (i + n > s.size() || at(1) < lo || at(1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if ((at(k) & 0xc0) != 0x80)
            return 0;
    return n;
}

/// How many bytes at the end of `s` are the valid beginning of a sequence that more input
/// could complete (0–3).
inline std::size_t incomplete_utf8_suffix(std::string_view s) noexcept
{
    for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back)
    {
        const auto b = static_cast<unsigned char>(s[s.size() - back]);
        if ((b & 0xc0) == 0x80)
            continue;  // a continuation byte: look further back for the lead
        const std::size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

/// `s` with every byte that does not start a valid sequence replaced by U+FFFD.
inline std::string sanitize_utf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();)
    {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0)
        {
            out += "\xef\xbf\xbd";
            ++i;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    return out;
}

inline bool is_valid_utf8(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < s.size();)
    {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

}  // namespace ep::engine::detail
