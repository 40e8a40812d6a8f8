#include <ep/engine/routing/cost.hpp>

#include <algorithm>
#include <cstdio>

namespace ep::engine {

std::optional<double> compute_cost(const price_table& prices, const providers::usage& u) noexcept
{
    if (u.cost_usd)
        return *u.cost_usd;
    if (!prices.known())
        return std::nullopt;
    const auto input = std::max<std::int64_t>(u.input_tokens, 0);
    const auto cached = std::clamp<std::int64_t>(u.cached_input_tokens, 0, input);
    const double input_price = *prices.input_per_mtok;
    const double cached_price = prices.cached_input_per_mtok.value_or(input_price);
    return (double(input - cached) * input_price + double(cached) * cached_price +
            double(std::max<std::int64_t>(u.output_tokens, 0)) * *prices.output_per_mtok) /
           1'000'000.0;
}

std::string cost_text(std::optional<double> cost_usd)
{
    if (!cost_usd)
        return "unknown";
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.4f", *cost_usd);
    return buf;
}

std::string cost_text(const cost_total& total)
{
    if (total.exact())
        return cost_text(total.known_usd);
    return "≥ " + cost_text(total.known_usd) + " (" + std::to_string(total.unknown) + " unpriced)";
}

}  // namespace ep::engine
