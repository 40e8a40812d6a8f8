#pragma once
// Cost of one call from the price table (USD per million tokens).
//
// A price may be unknown (a model the catalogue does not list, or one listed without a price):
// the cost of a call to it is then unknown too - compute_cost returns nullopt, never 0, and a
// front end shows it as "unknown". A cost the provider reports itself (usage.cost_usd, the
// Claude Code CLI) is always known.

#include <ep/providers/config.hpp>
#include <ep/providers/types.hpp>

#include <optional>

namespace ep::engine {

struct price_table
{
    std::optional<double> input_per_mtok;   // nullopt: unknown
    std::optional<double> output_per_mtok;  // nullopt: unknown
    std::optional<double> cached_input_per_mtok;  // absent: cached tokens cost the input price

    bool known() const noexcept { return input_per_mtok && output_per_mtok; }

    static price_table from(const providers::model_info& m)
    {
        return {m.input_price_per_mtok, m.output_price_per_mtok, m.cached_input_price_per_mtok};
    }
};

/// input·price_in + output·price_out, where the cached part of the input (usage counts it
/// inside input_tokens) is billed at the cached price when one exists. A cost the provider
/// reported itself (usage.cost_usd) wins over the table. nullopt: the price is unknown.
std::optional<double> compute_cost(const price_table& prices, const providers::usage& u) noexcept;

/// compute_cost with an unknown price counted as 0. Kept for callers that still hold the cost
/// as a plain double (phase_call_result::cost_usd); new code should use compute_cost and carry
/// "unknown" through to what it shows.
double compute_cost_usd(const price_table& prices, const providers::usage& u) noexcept;

}  // namespace ep::engine
