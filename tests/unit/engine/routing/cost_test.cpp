// compute_cost: known prices, cached input, unknown prices (never $0) and provider-reported cost.
#include <ep/engine/routing/cost.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ep::engine;
namespace pv = ep::providers;

pv::usage tokens(std::int64_t in, std::int64_t out, std::int64_t cached = 0)
{
    pv::usage u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.cached_input_tokens = cached;
    return u;
}

TEST(cost, known_prices_bill_input_and_output)
{
    pv::model_info m;
    m.input_price_per_mtok = 2.0;
    m.output_price_per_mtok = 10.0;
    const auto cost = compute_cost(price_table::from(m), tokens(1'000'000, 100'000));
    ASSERT_TRUE(cost.has_value());
    EXPECT_DOUBLE_EQ(*cost, 2.0 + 1.0);
}

TEST(cost, cached_input_uses_the_models_cached_price)
{
    pv::model_info m;
    m.input_price_per_mtok = 2.0;
    m.output_price_per_mtok = 10.0;
    m.cached_input_price_per_mtok = 0.1;
    // 400k of the 1M input tokens were cache reads.
    EXPECT_DOUBLE_EQ(*compute_cost(price_table::from(m), tokens(1'000'000, 0, 400'000)), 0.6 * 2.0 + 0.4 * 0.1);
    // Without a cached price, cached tokens cost the input price.
    m.cached_input_price_per_mtok.reset();
    EXPECT_DOUBLE_EQ(*compute_cost(price_table::from(m), tokens(1'000'000, 0, 400'000)), 2.0);
}

TEST(cost, an_unknown_price_is_an_unknown_cost_not_zero)
{
    pv::model_info unlisted;  // what the router builds for a model outside the catalogue
    unlisted.in_catalogue = false;
    EXPECT_FALSE(unlisted.price_known());
    EXPECT_FALSE(compute_cost(price_table::from(unlisted), tokens(1000, 1000)).has_value());
    // Half a price is no price.
    pv::model_info half;
    half.input_price_per_mtok = 1.0;
    EXPECT_FALSE(compute_cost(price_table::from(half), tokens(1000, 1000)).has_value());
}

TEST(cost, a_total_with_an_unknown_part_is_a_lower_bound_not_a_figure)
{
    cost_total t;
    t.add(0.5);
    t.add(0.25);
    EXPECT_TRUE(t.exact());
    EXPECT_EQ(t.value(), 0.75);
    EXPECT_EQ(cost_text(t), "$0.7500");
    t.add(std::nullopt);
    EXPECT_FALSE(t.exact());
    EXPECT_FALSE(t.value().has_value());
    EXPECT_EQ(t.known_usd, 0.75);
    EXPECT_EQ(cost_text(t), "≥ $0.7500 (1 unpriced)");
    EXPECT_EQ(cost_text(std::optional<double>{}), "unknown");
    EXPECT_EQ(cost_text(std::optional<double>{0.0}), "$0.0000");
}

TEST(cost, a_cost_the_provider_reports_wins_even_without_a_price)
{
    auto u = tokens(1000, 1000);
    u.cost_usd = 0.25;
    EXPECT_EQ(compute_cost(price_table::from(pv::model_info{}), u), 0.25);
    pv::model_info m;
    m.input_price_per_mtok = 100.0;
    m.output_price_per_mtok = 100.0;
    EXPECT_EQ(compute_cost(price_table::from(m), u), 0.25);
}

}  // namespace
