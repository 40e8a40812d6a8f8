// A full disk (a database size cap that makes SQLite report SQLITE_FULL) fails a checkpoint
// cleanly, alone or inside a group commit. (A failure half-way through a checkpoint on any
// backend: conformance/checkpoints_test.cpp.)

#include "store_fixture.hpp"

namespace ep::persistence::test {
namespace {

using atomicity = store_fixture;

TEST_F(atomicity, disk_full_is_reported_and_leaves_no_half_written_phase)
{
    std::string earlier_id;
    std::string id;
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto earlier = s->create_run(make_run());
        ASSERT_TRUE(earlier);
        earlier_id = earlier->id;
        ASSERT_TRUE(s->commit_phase(make_phase(earlier_id, "design"), make_events("design", 3)));
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run);
        id = run->id;
    }
    // Cap the file just above its current size (SQLite clamps the cap to the current page
    // count), then commit a phase far larger than the headroom.
    auto o = options();
    o.max_page_count = 1;
    auto s = open_store(o);
    ASSERT_TRUE(s);
    auto big = make_phase(id, "design");
    big.output_text.assign(512 * 1024, 'x');
    auto c = s->commit_phase(big, make_events("design", 3));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, persistence_errc::disk_full) << c.error().to_string();
    EXPECT_NE(c.error().message.find(db_path_.string()), std::string::npos);

    EXPECT_EQ(s->get_phase(id, "design").error().code, persistence_errc::not_found);
    EXPECT_TRUE(s->get_events(id)->empty());
    EXPECT_EQ(s->get_phase(earlier_id, "design")->output_text, "output of design");
    EXPECT_EQ(s->get_events(earlier_id)->size(), 3u);

    // Small writes that fit still succeed on the same connection.
    auto small = s->append_events(earlier_id, make_events("design", 1));
    if (!small)  // the cap may leave no room at all; then it must again be disk_full
    {
        EXPECT_EQ(small.error().code, persistence_errc::disk_full);
    }
    EXPECT_TRUE(s->integrity_check());
}

TEST_F(atomicity, disk_full_inside_a_group_commit_is_what_every_call_of_it_reports)
{
    std::string id;
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run);
        id = run->id;
    }
    auto o = options();
    o.max_page_count = 1;  // clamped to the current size: no room for a large phase
    auto s = open_store(o);
    ASSERT_TRUE(s);
    auto begun = s->begin_batch();
    ASSERT_TRUE(begun && *begun);
    auto big = make_phase(id, "design");
    big.output_text.assign(512 * 1024, 'x');
    auto c = s->commit_phase(big, make_events("design", 3));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, persistence_errc::disk_full) << c.error().to_string();
    // Whether SQLite kept the batch open or rolled it back, nothing claims success wrongly:
    // a later call either lands (batch still open) or reports the disk-full cause.
    auto later = s->commit_phase(make_phase(id, "review"), {});
    auto ended = s->end_batch();
    if (!ended)
    {
        EXPECT_EQ(ended.error().code, persistence_errc::disk_full) << ended.error().to_string();
        if (!later)
        {
            EXPECT_EQ(later.error().code, persistence_errc::disk_full) << later.error().to_string();
        }
    }
    EXPECT_EQ(s->get_phase(id, "design").error().code, persistence_errc::not_found);
    EXPECT_TRUE(s->integrity_check());
}

}  // namespace
}  // namespace ep::persistence::test
