#pragma once
// A check both backends' migration tests share (tests of a store migrated from before costs
// could be unknown).

#include "record_builders.hpp"

#include <ep/persistence/store.hpp>

#include <gtest/gtest.h>

namespace ep::persistence::test {

/// After a migration that made costs nullable: a phase of run `run_id` committed with an
/// unknown cost reads back unknown, and the run's totals keep `known_total` beside one unpriced.
inline void expect_an_unknown_cost_is_kept(store& s, const std::string& run_id, double known_total)
{
    auto unpriced = make_phase(run_id, "review");
    unpriced.cost_usd = std::nullopt;
    ASSERT_TRUE(s.commit_phase(unpriced, {}));
    auto got = s.get_phase(run_id, "review");
    ASSERT_TRUE(got);
    EXPECT_FALSE(got->cost_usd.has_value());
    auto run = s.get_run(run_id);
    ASSERT_TRUE(run);
    EXPECT_DOUBLE_EQ(run->totals.cost_usd, known_total);
    EXPECT_EQ(run->totals.unpriced_phases, 1);
}

}  // namespace ep::persistence::test
