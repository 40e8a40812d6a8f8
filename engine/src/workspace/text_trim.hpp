#pragma once
// Trimming for the small line parsers of this folder (fenced files, test summaries).

#include <string_view>

namespace ep::engine::detail {

inline std::string_view trim(std::string_view s, std::string_view chars = " \t\r") noexcept
{
    const auto b = s.find_first_not_of(chars);
    if (b == std::string_view::npos)
        return {};
    return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

}  // namespace ep::engine::detail
