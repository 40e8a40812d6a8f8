// sqlite::wal_checkpointer on a raw SQLite connection: its thread copies the bulk of the WAL,
// the writer's commits only finish each round, and the WAL starts over.

#include "sqlite/wal_checkpointer.hpp"
#include "store_fixture.hpp"

#include <string>
#include <thread>

namespace ep::persistence::test {
namespace {

using wal_checkpointer = store_fixture;

TEST_F(wal_checkpointer, its_thread_copies_the_bulk_and_the_writer_only_the_rest)
{
    fs::create_directories(db_path_.parent_path());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    auto ckpt = sqlite::wal_checkpointer::start(db_path_, db, 5s);
    ASSERT_TRUE(ckpt);

    // 6,000 one-row commits, 100 µs apart: a chain of quick phases checkpoints about as often.
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t (body) VALUES (?1)", -1, &insert, nullptr), SQLITE_OK);
    const std::string body(3500, 'b');
    for (int i = 0; i < 6000; ++i)
    {
        sqlite3_bind_text(insert, 1, body.c_str(), static_cast<int>(body.size()), SQLITE_STATIC);
        ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db);
        sqlite3_reset(insert);
        std::this_thread::sleep_for(100us);
    }
    sqlite3_finalize(insert);

    const auto c = ckpt->counters();
    EXPECT_GE(c.background_rounds, 2);
    EXPECT_GT(c.background_frames, 2000) << "the background checkpoints copied nothing";
    EXPECT_LT(c.inline_frames * 4, c.background_frames) << "the writer did the bulk of the copying itself";
    // Without a restart the WAL would hold all ~17,000 frames.
    const std::uintmax_t bound = 2u * sqlite::wal_checkpointer::checkpoint_after_pages * (4096 + 24);
    EXPECT_LT(fs::file_size(fs::path(db_path_.string() + "-wal")), bound) << "the WAL never started over";

    ckpt.reset();  // before the writer's connection closes
    sqlite3_stmt* count = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(count, 0), 6000);
    sqlite3_finalize(count);
    EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
}

}  // namespace
}  // namespace ep::persistence::test
