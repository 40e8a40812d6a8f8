// list_runs: newest first, limited, with totals.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(listing, runs_are_newest_first_and_limited)
{
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
    {
        auto r = s->create_run(make_run("wf" + std::to_string(i)));
        ASSERT_TRUE(r);
        ids.push_back(r->id);
        if (i != 2)  // runs 2 and 3 share a millisecond: creation order must still hold
            clock_ms_ += 1000;
    }
    ASSERT_TRUE(s->commit_phase(make_phase(ids[4], "design"), {}));

    auto all = s->list_runs(100);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 5u);
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ((*all)[i].id, ids[4 - i]) << i;
    EXPECT_EQ((*all)[0].totals.output_tokens, 50);
    EXPECT_EQ((*all)[0].totals.phases_completed, 1);
    EXPECT_EQ((*all)[1].totals.output_tokens, 0);
    EXPECT_EQ((*all)[0].definition, make_run().definition);

    auto two = s->list_runs(2);
    ASSERT_TRUE(two);
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[0].id, ids[4]);
    EXPECT_EQ((*two)[1].id, ids[3]);

    // Generated ids sort by time too (at second resolution).
    EXPECT_LT(ids[0], ids[1]);
    EXPECT_LT(ids[3], ids[4]);
    EXPECT_TRUE(s->list_runs(0)->empty());
}

}  // namespace
}  // namespace ep::persistence::conformance
