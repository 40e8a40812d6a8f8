// Pure checks of workspace-relative paths (see path_rules.hpp for the rules and why).
#include <ep/engine/workspace/path_rules.hpp>

#include "workspace/utf8.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace ep::engine {
namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

workspace_error refuse(workspace_errc code, std::string_view text, const std::string& why)
{
    const std::string shown = printable_path(text);
    return make_workspace_error(code, shown, "`" + shown + "`: refused: " + why);
}

bool has_drive_letter(std::string_view text)
{
    return text.size() >= 2 && std::isalpha(static_cast<unsigned char>(text[0])) && text[1] == ':';
}

}  // namespace

std::string relative_path::str() const
{
    if (components.empty())
        return ".";
    std::string out;
    for (const auto& c : components)
    {
        if (!out.empty())
            out += '/';
        out += c;
    }
    return out;
}

std::string printable_path(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t n = detail::utf8_sequence_length(text, i);
        if (n == 0 || is_control(c))
        {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

ws_result<relative_path> check_relative_path(std::string_view text, const path_rules& rules)
{
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0)
            return refuse(workspace_errc::invalid_path, text, "it contains a NUL byte");
        if (is_control(c))
            return refuse(workspace_errc::invalid_path, text, "it contains a control character");
        if (c == '\\')
            return refuse(workspace_errc::invalid_path, text,
                          "it contains a backslash (use `/` to separate directories)");
    }
    if (text.size() > rules.max_path_bytes)
        return refuse(workspace_errc::invalid_path, text,
                      "longer than " + std::to_string(rules.max_path_bytes) + " bytes");
    if (!text.empty() && text.front() == '/')
        return refuse(workspace_errc::absolute_path, text, "absolute paths are not allowed; give a path relative "
                                                           "to the workspace");
    if (has_drive_letter(text))
        return refuse(workspace_errc::absolute_path, text, "a drive letter makes it absolute");
    if (!text.empty() && text.front() == '~')
        return refuse(workspace_errc::invalid_path, text, "`~` (a home directory) is not a workspace path");

    relative_path out;
    std::size_t start = 0;
    while (start <= text.size())
    {
        const std::size_t end = std::min(text.find('/', start), text.size());
        const std::string_view part = text.substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return refuse(workspace_errc::parent_reference, text, "a `..` component leaves the workspace");
        if (part.size() > rules.max_component_bytes)
            return refuse(workspace_errc::invalid_path, text,
                          "a component is longer than " + std::to_string(rules.max_component_bytes) + " bytes");
        for (const auto& reserved : rules.reserved)
            if (equals_ignoring_case(part, reserved))
                return refuse(workspace_errc::reserved_path, text, "`" + reserved + "` is reserved for the engine");
        out.components.emplace_back(part);
    }
    if (out.components.empty() && !rules.allow_root)
        return refuse(workspace_errc::invalid_path, text, "it names no file");
    return out;
}

}  // namespace ep::engine
