#include "yaml/source_guard.hpp"

#include <cstdio>
#include <vector>

namespace ep::engine::detail {

std::optional<guard_failure> check_encoding(std::string_view text)
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;)
    {
        unsigned char c = s[i];
        if (c == 0)
            return guard_failure{i, "binary data (NUL byte); a workflow must be UTF-8 text"};
        if (c < 0x80)
        {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned cp = 0;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; }
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k)
        {
            if ((s[i + k] & 0xC0u) != 0x80u)
                ok = false;
            else
                cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        // Overlong 3/4-byte forms, UTF-16 surrogates and values past U+10FFFF are invalid too.
        if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                   (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = false;
        if (!ok)
        {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(c));
            return guard_failure{i, std::string("invalid UTF-8 (byte ") + hex + "); a workflow must be UTF-8 text"};
        }
        i += len;
    }
    return std::nullopt;
}

std::optional<guard_failure> check_nesting(std::string_view text, int max_depth)
{
    std::vector<std::size_t> indents;  // open block indentation levels
    int flow = 0;
    bool in_double = false, in_single = false;
    bool in_block_scalar = false;
    std::size_t block_parent_indent = 0;

    auto too_deep = [&](std::size_t offset) {
        return guard_failure{offset, "nesting is deeper than " + std::to_string(max_depth) + " levels"};
    };

    std::size_t line_start = 0;
    while (line_start <= text.size())
    {
        std::size_t line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos)
            line_end = text.size();
        std::string_view line = text.substr(line_start, line_end - line_start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);

        std::size_t indent = 0;
        while (indent < line.size() && line[indent] == ' ')
            ++indent;
        const bool blank = indent == line.size() || line[indent] == '#';

        if (in_block_scalar)
        {
            if (indent == line.size() || indent > block_parent_indent)
            {
                line_start = line_end + 1;
                continue;
            }
            in_block_scalar = false;
        }
        if (blank && !in_double && !in_single)
        {
            line_start = line_end + 1;
            continue;
        }

        if (flow == 0 && !in_double && !in_single)
        {
            while (!indents.empty() && indents.back() > indent)
                indents.pop_back();
            if (indents.empty() || indents.back() < indent)
                indents.push_back(indent);
        }

        int dashes = 0;
        bool value_start = true;
        bool block_indicator = false;
        for (std::size_t i = indent; i < line.size(); ++i)
        {
            const char c = line[i];
            if (in_double)
            {
                if (c == '\\')
                    ++i;
                else if (c == '"')
                    in_double = false;
                continue;
            }
            if (in_single)
            {
                if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'')
                    ++i;
                else if (c == '\'')
                    in_single = false;
                continue;
            }
            if (c == ' ' || c == '\t')
                continue;
            if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
                break;
            const bool next_is_space = i + 1 >= line.size() || line[i + 1] == ' ';
            if (value_start && flow == 0 && (c == '-' || c == '?') && next_is_space)
            {
                ++dashes;
                if (static_cast<int>(indents.size()) + dashes > max_depth)
                    return too_deep(line_start + i);
                continue;
            }
            if ((c == '[' || c == '{') && (value_start || flow > 0))
            {
                ++flow;
                if (static_cast<int>(indents.size()) + dashes + flow > max_depth)
                    return too_deep(line_start + i);
                value_start = true;
                continue;
            }
            if ((c == ']' || c == '}') && flow > 0)
            {
                --flow;
                value_start = false;
                continue;
            }
            if (value_start && (c == '"' || c == '\''))
            {
                (c == '"' ? in_double : in_single) = true;
                value_start = false;
                continue;
            }
            if (value_start && flow == 0 && (c == '|' || c == '>'))
            {
                block_indicator = true;
                value_start = false;
                continue;
            }
            if (c == ':' && next_is_space)
            {
                value_start = true;
                continue;
            }
            if (c == ',' && flow > 0)
            {
                value_start = true;
                continue;
            }
            value_start = false;
        }
        if (static_cast<int>(indents.size()) + dashes > max_depth)
            return too_deep(line_start + indent);
        if (block_indicator)
        {
            in_block_scalar = true;
            block_parent_indent = indent;
        }
        line_start = line_end + 1;
    }
    return std::nullopt;
}

}  // namespace ep::engine::detail
