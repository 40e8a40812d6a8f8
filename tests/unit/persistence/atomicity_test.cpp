// commit_phase is one transaction: a failure at any point leaves nothing of that phase visible
// and earlier data intact. Failures are injected with a trigger that raises, and with a
// database size cap that makes SQLite report SQLITE_FULL (a full disk).

#include "store_fixture.hpp"

namespace ep::persistence::test {
namespace {

using atomicity = store_fixture;

TEST_F(atomicity, failure_while_inserting_events_rolls_back_the_phase)
{
    std::string earlier_id;
    std::string id;
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto earlier = s->create_run(make_run());
        ASSERT_TRUE(earlier);
        earlier_id = earlier->id;
        ASSERT_TRUE(s->commit_phase(make_phase(earlier_id, "design"), make_events("design", 2)));
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run);
        id = run->id;
    }
    // The second of three events aborts: the phase row was already written by then.
    raw_exec("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.type = 'boom'"
             " BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

    auto s = open_store();
    ASSERT_TRUE(s);
    auto events = make_events("design", 3);
    events[1].type = "boom";
    auto c = s->commit_phase(make_phase(id, "design"), events);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("committing phase 'design'"), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().cause.category(), sqlite_category());

    EXPECT_EQ(s->get_phase(id, "design").error().code, persistence_errc::not_found);
    EXPECT_TRUE(s->get_phases(id)->empty());
    EXPECT_TRUE(s->get_events(id)->empty());

    // Earlier run intact; the store keeps working after the failure.
    EXPECT_EQ(s->get_phase(earlier_id, "design")->output_text, "output of design");
    EXPECT_EQ(s->get_events(earlier_id)->size(), 2u);
    events[1].type = "text_delta";
    auto retry = s->commit_phase(make_phase(id, "design"), events);
    ASSERT_TRUE(retry) << retry.error().to_string();
    EXPECT_EQ(*retry, 3);
    EXPECT_TRUE(s->integrity_check());
}

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

TEST_F(atomicity, a_committed_phase_survives_reopening)
{
    std::string id;
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run);
        id = run->id;
        ASSERT_TRUE(s->commit_phase(make_phase(id, "design"), make_events("design", 3)));
    }
    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->get_phase(id, "design")->status, phase_status::completed);
    EXPECT_EQ(s->get_events(id)->size(), 3u);
}

}  // namespace
}  // namespace ep::persistence::test
