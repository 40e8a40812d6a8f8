// WAL checkpoints run beside the writer (sqlite::wal_checkpointer): while one writer commits
// without a pause, the WAL still starts over and stays small, the pages reach the database
// file, and nothing is lost.

#include "store_fixture.hpp"

#include <string>

namespace ep::persistence::test {
namespace {

using checkpoints = store_fixture;

TEST_F(checkpoints, the_wal_stays_bounded_and_its_pages_reach_the_database_while_a_writer_never_pauses)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run) << run.error().to_string();

    // About 12,000 WAL pages (48 MiB) in all: without checkpoints the WAL would hold them all
    // (SQLite's own fallback only starts at 16,000 pages).
    constexpr int phases = 3000;
    std::string text(3000, 'x');
    for (int i = 0; i < phases; ++i)
    {
        auto p = make_phase(run->id, "p" + std::to_string(i));
        text[static_cast<std::size_t>(i) % text.size()] = static_cast<char>('a' + i % 26);
        p.output_text = text;
        auto committed = s->commit_phase(p, make_events(p.phase_id, 2), {});
        ASSERT_TRUE(committed) << committed.error().to_string();
    }

    const auto wal = fs::file_size(fs::path(db_path_.string() + "-wal"));
    const auto db = fs::file_size(db_path_);
    EXPECT_LT(wal, 24u << 20) << "the WAL never started over: checkpoints do not keep up";
    EXPECT_GT(db, 10u << 20) << "the pages did not reach the database file while the store was open";

    // Another connection sees every phase, and the file is sound.
    sqlite_options ro = options();
    ro.read_only = true;
    auto reader = open_store(ro);
    ASSERT_TRUE(reader);
    auto got = reader->get_phases(run->id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->size(), static_cast<std::size_t>(phases));
    EXPECT_TRUE(s->integrity_check());
}

}  // namespace
}  // namespace ep::persistence::test
