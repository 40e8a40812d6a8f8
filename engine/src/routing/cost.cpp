#include <ep/engine/routing/cost.hpp>

#include <algorithm>

namespace ep::engine {

double compute_cost_usd(const price_table& prices, const providers::usage& u) noexcept
{
    if (u.cost_usd)
        return *u.cost_usd;
    const auto cached = std::clamp<std::int64_t>(u.cached_input_tokens, 0, std::max<std::int64_t>(u.input_tokens, 0));
    const auto uncached = std::max<std::int64_t>(u.input_tokens, 0) - cached;
    const double cached_price = prices.cached_input_per_mtok.value_or(prices.input_per_mtok);
    return (double(uncached) * prices.input_per_mtok + double(cached) * cached_price +
            double(std::max<std::int64_t>(u.output_tokens, 0)) * prices.output_per_mtok) /
           1'000'000.0;
}

}  // namespace ep::engine
