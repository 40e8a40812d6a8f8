#include <ep/engine/policy.hpp>

#include <charconv>
#include <cmath>

namespace ep::engine {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    std::size_t unit = text.find_first_not_of("0123456789.");
    if (unit == 0 || unit == std::string_view::npos)
        return std::nullopt;
    std::string_view number = text.substr(0, unit);
    std::string_view suffix = text.substr(unit);
    double value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || ptr != number.data() + number.size() || !std::isfinite(value) || value < 0)
        return std::nullopt;
    double ms = 0;
    if (suffix == "ms")
        ms = value;
    else if (suffix == "s")
        ms = value * 1000;
    else if (suffix == "m")
        ms = value * 60'000;
    else if (suffix == "h")
        ms = value * 3'600'000;
    else
        return std::nullopt;
    if (ms > 1e15)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

}  // namespace ep::engine
