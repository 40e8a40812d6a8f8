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
#include <string>

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

/// A sum of costs some of which may be unknown: the known part and how many were unknown.
/// A total with unknown parts is a lower bound ("≥ $X"), never a figure.
struct cost_total
{
    double known_usd = 0;  // the sum of the known costs
    int unknown = 0;       // how many costs were unknown

    void add(std::optional<double> cost) noexcept
    {
        if (cost)
            known_usd += *cost;
        else
            ++unknown;
    }
    bool exact() const noexcept { return unknown == 0; }
    /// The total when every part is known; nullopt otherwise.
    std::optional<double> value() const noexcept
    {
        return exact() ? std::optional<double>(known_usd) : std::nullopt;
    }
};

/// "$0.0123", "unknown" for nullopt (the way every front end shows one cost).
std::string cost_text(std::optional<double> cost_usd);

/// A total: "$0.0123", or "≥ $0.0123 (2 unpriced)" when some parts are unknown.
std::string cost_text(const cost_total& total);

}  // namespace ep::engine
