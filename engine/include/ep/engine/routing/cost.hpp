#pragma once
// Cost of one call from the price table (USD per million tokens).

#include <ep/providers/config.hpp>
#include <ep/providers/types.hpp>

#include <optional>

namespace ep::engine {

struct price_table
{
    double input_per_mtok = 0;
    double output_per_mtok = 0;
    std::optional<double> cached_input_per_mtok;  // absent: cached tokens cost the input price

    static price_table from(const providers::model_info& m)
    {
        return {m.input_price_per_mtok, m.output_price_per_mtok, std::nullopt};
    }
};

/// input·price_in + output·price_out, where the cached part of the input (usage counts it
/// inside input_tokens) is billed at the cached price when one exists. A cost the provider
/// reported itself (usage.cost_usd, e.g. the Claude Code CLI) wins over the table.
double compute_cost_usd(const price_table& prices, const providers::usage& u) noexcept;

}  // namespace ep::engine
