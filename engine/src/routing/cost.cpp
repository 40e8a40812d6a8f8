#include <ep/engine/routing/cost.hpp>

#include <algorithm>

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

double compute_cost_usd(const price_table& prices, const providers::usage& u) noexcept
{
    return compute_cost(prices, u).value_or(0.0);
}

}  // namespace ep::engine
