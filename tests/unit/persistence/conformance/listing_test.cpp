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

TEST_P(listing, a_filter_selects_by_status_and_workflow)
{
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<std::string> ids;
    for (const char* wf : {"sdlc", "review", "sdlc", "sdlc"})
    {
        ids.push_back(s->create_run(make_run(wf)).value().id);
        clock_ms_ += 10;
    }
    ASSERT_TRUE(s->set_run_status(ids[0], run_status::failed, "x"));
    ASSERT_TRUE(s->set_run_status(ids[1], run_status::failed, "x"));
    ASSERT_TRUE(s->set_run_status(ids[3], run_status::waiting));

    const auto listed = [&](run_filter f) {
        std::vector<std::string> out;
        auto r = s->list_runs(f);
        EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
        if (r)
            for (const auto& run : *r)
                out.push_back(run.id);
        return out;
    };
    run_filter failed;
    failed.status = run_status::failed;
    EXPECT_EQ(listed(failed), (std::vector<std::string>{ids[1], ids[0]}));
    run_filter sdlc;
    sdlc.workflow = "sdlc";
    EXPECT_EQ(listed(sdlc), (std::vector<std::string>{ids[3], ids[2], ids[0]}));
    run_filter both = failed;
    both.workflow = "sdlc";
    EXPECT_EQ(listed(both), (std::vector<std::string>{ids[0]}));
    run_filter waiting;
    waiting.status = run_status::waiting;
    EXPECT_EQ(listed(waiting), (std::vector<std::string>{ids[3]}));
    run_filter none;
    none.workflow = "nope";
    EXPECT_TRUE(listed(none).empty());
    EXPECT_EQ(listed(run_filter{}).size(), 4u);  // the default: every status, 50 at most
}

TEST_P(listing, before_id_pages_through_runs_without_gaps_or_repeats)
{
    auto s = open();
    ASSERT_TRUE(s);
    // 7 runs; several share a millisecond (and so a second: their ids' order is random), so
    // only the store's own creation order can page them correctly.
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i)
    {
        ids.push_back(s->create_run(make_run()).value().id);
        if (i % 3 == 2)
            clock_ms_ += 1;
    }
    std::vector<std::string> paged;
    run_filter f;
    f.limit = 2;
    for (int page = 0; page < 10; ++page)
    {
        auto r = s->list_runs(f);
        ASSERT_TRUE(r) << r.error().to_string();
        if (r->empty())
            break;
        EXPECT_LE(r->size(), 2u);
        for (const auto& run : *r)
            paged.push_back(run.id);
        f.before_id = r->back().id;
    }
    EXPECT_EQ(paged, std::vector<std::string>(ids.rbegin(), ids.rend()));

    // The page right after a given run.
    run_filter one;
    one.limit = 1;
    one.before_id = ids[4];
    EXPECT_EQ(s->list_runs(one)->front().id, ids[3]);
}

TEST_P(listing, an_unknown_before_id_is_a_bound_on_the_time_sortable_ids)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto old_run = make_run();
    old_run.id = "20240101T000000Z-00000001";
    auto new_run = make_run();
    new_run.id = "20250601T000000Z-00000002";
    ASSERT_TRUE(s->create_run(old_run));
    ASSERT_TRUE(s->create_run(new_run));
    run_filter f;
    f.before_id = "20250101T000000Z";
    auto r = s->list_runs(f);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front().id, old_run.id);
    f.before_id = "20230101T000000Z";
    EXPECT_TRUE(s->list_runs(f)->empty());
}

}  // namespace
}  // namespace ep::persistence::conformance
