// Opening, schema versioning and the pragmas a fresh database gets.

#include "store_fixture.hpp"

namespace ep::persistence::test {
namespace {

using migrations = store_fixture;

int user_version(const fs::path& path)
{
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

std::string pragma_text(const fs::path& path, const char* sql)
{
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    std::string out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

TEST_F(migrations, fresh_database_is_created_with_parents_and_migrated)
{
    ASSERT_FALSE(fs::exists(db_path_.parent_path()));
    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_TRUE(fs::exists(db_path_));
    EXPECT_EQ(s->path(), db_path_);
    EXPECT_GE(sqlite_store::schema_version(), 1);
    EXPECT_EQ(user_version(db_path_), sqlite_store::schema_version());
    EXPECT_EQ(pragma_text(db_path_, "PRAGMA journal_mode"), "wal");
}

TEST_F(migrations, reopen_keeps_data_and_version)
{
    std::string id;
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run) << run.error().to_string();
        id = run->id;
    }
    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_EQ(user_version(db_path_), sqlite_store::schema_version());
    auto run = s->get_run(id);
    ASSERT_TRUE(run) << run.error().to_string();
    EXPECT_EQ(run->workflow, "sdlc");
}

TEST_F(migrations, newer_schema_is_refused_and_the_file_is_untouched)
{
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->create_run(make_run()));
    }
    const int future = sqlite_store::schema_version() + 1;
    // Checkpoint the WAL into the main file so the comparison below covers all the data.
    raw_exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = " + std::to_string(future) +
             "; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    const auto before = read_bytes(db_path_);

    auto r = sqlite_store::open(db_path_, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::schema_too_new);
    EXPECT_NE(r.error().message.find(db_path_.string()), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
    EXPECT_EQ(read_bytes(db_path_), before);
    EXPECT_EQ(user_version(db_path_), future);

    // The read-only inspection path refuses it too.
    auto o = options();
    o.read_only = true;
    auto ro = sqlite_store::open(db_path_, o);
    ASSERT_FALSE(ro);
    EXPECT_EQ(ro.error().code, persistence_errc::schema_too_new);
    EXPECT_EQ(read_bytes(db_path_), before);
}

TEST_F(migrations, durability_full_opens_and_commits)
{
    // synchronous is a per-connection setting, invisible from outside; the bench measures
    // the difference. Here: the FULL configuration is accepted and commits work.
    auto o = options();
    o.sync = durability::full;
    auto s = open_store(o);
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto c = s->commit_phase(make_phase(run->id, "design"), make_events("design", 3));
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ(*c, 3);
}

TEST_F(migrations, read_only_open_of_a_missing_file_is_not_found_and_creates_nothing)
{
    auto o = options();
    o.read_only = true;
    auto r = sqlite_store::open(db_path_, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::not_found);
    EXPECT_FALSE(fs::exists(db_path_));
}

}  // namespace
}  // namespace ep::persistence::test
