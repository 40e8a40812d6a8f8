// Bad database files: garbage, damaged pages, read-only files and connections.

#include "store_fixture.hpp"

#include "permissions.hpp"

#include <sys/stat.h>

namespace ep::persistence::test {
namespace {

using bad_files = store_fixture;

void write_file(const fs::path& p, const std::string& bytes)
{
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
}

TEST_F(bad_files, garbage_file_is_corrupt_and_left_untouched)
{
    const std::string garbage = "this is not a database, it is a shopping list\n" + std::string(5000, '\x7f');
    write_file(db_path_, garbage);

    auto r = sqlite_store::open(db_path_, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::corrupt);
    EXPECT_NE(r.error().message.find(db_path_.string()), std::string::npos) << r.error().message;
    EXPECT_EQ(read_bytes(db_path_), garbage);
    EXPECT_FALSE(fs::exists(db_path_.string() + "-wal"));
    EXPECT_FALSE(fs::exists(db_path_.string() + "-shm"));

    auto o = options();
    o.read_only = true;
    auto ro = sqlite_store::open(db_path_, o);
    ASSERT_FALSE(ro);
    EXPECT_EQ(ro.error().code, persistence_errc::corrupt);
}

TEST_F(bad_files, short_file_is_corrupt)
{
    write_file(db_path_, "SQLite");
    auto r = sqlite_store::open(db_path_, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::corrupt);
    EXPECT_EQ(read_bytes(db_path_), "SQLite");
}

TEST_F(bad_files, valid_header_with_garbage_body_is_corrupt)
{
    // A SQLite header followed by noise: SQLite itself must reject it, and we must map that.
    std::string bytes("SQLite format 3", 16);
    bytes += std::string(8192, '\x5a');
    write_file(db_path_, bytes);
    auto r = sqlite_store::open(db_path_, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::corrupt) << r.error().to_string();
    EXPECT_EQ(read_bytes(db_path_), bytes);
}

TEST_F(bad_files, damaged_table_page_fails_the_integrity_check)
{
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        auto run = s->create_run(make_run());
        ASSERT_TRUE(run);
        for (int i = 0; i < 20; ++i)
        {
            auto p = make_phase(run->id, "phase" + std::to_string(i));
            p.output_text.assign(3000, static_cast<char>('a' + i % 26));
            ASSERT_TRUE(s->commit_phase(p, make_events(p.phase_id, 3)));
        }
        EXPECT_TRUE(s->integrity_check());
    }
    raw_exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    // Scribble over the middle of the file (past the header and schema pages).
    auto bytes = read_bytes(db_path_);
    ASSERT_GT(bytes.size(), 40000u);
    for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8192; ++i)
        bytes[i] = static_cast<char>(i * 7);
    write_file(db_path_, bytes);

    auto s = sqlite_store::open(db_path_, options());
    if (!s)  // damage SQLite notices while opening is equally acceptable
    {
        EXPECT_EQ(s.error().code, persistence_errc::corrupt) << s.error().to_string();
        return;
    }
    auto check = (*s)->integrity_check();
    ASSERT_FALSE(check);
    EXPECT_EQ(check.error().code, persistence_errc::corrupt);
    // Either the check lists the problems or SQLite aborts it on a malformed page; both name the file.
    EXPECT_NE(check.error().message.find(db_path_.string()), std::string::npos) << check.error().message;
    EXPECT_NE(check.error().message.find("integrity check"), std::string::npos) << check.error().message;
}

TEST_F(bad_files, read_only_file_is_reported_when_opened_for_writing)
{
    {
        auto s = open_store();
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->create_run(make_run()));
    }
    raw_exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    ep::testing::run_with_permissions_enforced(dir_, [&] {
        fs::permissions(db_path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
        const auto before = read_bytes(db_path_);

        auto r = sqlite_store::open(db_path_, options());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, persistence_errc::read_only) << r.error().to_string();
        EXPECT_NE(r.error().message.find(db_path_.string()), std::string::npos);
        EXPECT_EQ(read_bytes(db_path_), before);

        auto o = options();
        o.read_only = true;
        auto ro = sqlite_store::open(db_path_, o);
        ASSERT_TRUE(ro) << ro.error().to_string();
        EXPECT_EQ((*ro)->list_runs(10)->size(), 1u);
    });
}

TEST_F(bad_files, unwritable_parent_directory_is_read_only)
{
    ep::testing::run_with_permissions_enforced(dir_, [&] {
        fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
        auto r = sqlite_store::open(dir_ / "new" / "runs.db", options());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, persistence_errc::read_only) << r.error().to_string();
    });
}

// A cleanly closed WAL database has no -shm file, and a reader that may not create one in the
// directory falls back to reading the file as immutable. The odd directory name checks that the
// path survives the URI that fallback needs.
TEST_F(bad_files, a_closed_database_in_an_unwritable_directory_can_still_be_read)
{
    const auto odd_dir = dir_ / "odd ?#%41 name";
    const auto path = odd_dir / "runs.db";
    std::string id;
    {
        auto s = sqlite_store::open(path, options());
        ASSERT_TRUE(s) << s.error().to_string();
        id = (*s)->create_run(make_run()).value().id;
        ASSERT_TRUE((*s)->commit_phase(make_phase(id, "design"), {}));
    }
    ASSERT_FALSE(fs::exists(path.string() + "-shm")) << "a clean close removes the WAL index";
    ep::testing::run_with_permissions_enforced(dir_, [&] {
        fs::permissions(odd_dir, fs::perms::owner_read | fs::perms::owner_exec);
        auto o = options();
        o.read_only = true;
        auto ro = sqlite_store::open(path, o);
        ASSERT_TRUE(ro) << ro.error().to_string();
        EXPECT_EQ((*ro)->list_runs(10)->size(), 1u);
        EXPECT_EQ((*ro)->get_phase(id, "design")->output_text, "output of design");
        EXPECT_TRUE((*ro)->integrity_check());
        auto w = (*ro)->create_run(make_run());
        ASSERT_FALSE(w);
        EXPECT_EQ(w.error().code, persistence_errc::read_only) << w.error().to_string();
        EXPECT_FALSE(fs::exists(path.string() + "-shm"));

        auto rw = sqlite_store::open(path, options());
        ASSERT_FALSE(rw);
        EXPECT_EQ(rw.error().code, persistence_errc::read_only) << rw.error().to_string();
    });
}

TEST_F(bad_files, error_codes_have_names_and_map_sqlite_results)
{
    EXPECT_EQ(make_error_code(persistence_errc::lease_held).category().name(), std::string("ep.persistence"));
    EXPECT_EQ(static_cast<int>(persistence_errc::not_found), 1);
    EXPECT_EQ(make_sqlite_error_code(SQLITE_FULL).message(), sqlite3_errstr(SQLITE_FULL));
    EXPECT_EQ(classify_sqlite_error(SQLITE_FULL), persistence_errc::disk_full);
    EXPECT_EQ(classify_sqlite_error(SQLITE_NOTADB), persistence_errc::corrupt);
    EXPECT_EQ(classify_sqlite_error(SQLITE_CORRUPT_INDEX), persistence_errc::corrupt);
    EXPECT_EQ(classify_sqlite_error(SQLITE_READONLY_DBMOVED), persistence_errc::read_only);
    EXPECT_EQ(classify_sqlite_error(SQLITE_BUSY_SNAPSHOT), persistence_errc::busy);
    EXPECT_EQ(classify_sqlite_error(SQLITE_IOERR_WRITE), persistence_errc::io_error);
    store_error e(make_error_code(persistence_errc::busy), "/x/runs.db: committing");
    EXPECT_EQ(e.to_string(), "/x/runs.db: committing (the database is locked by another process)");

    result<int> failed = e;
    EXPECT_THROW(failed.value(), boost::system::system_error);
}

}  // namespace
}  // namespace ep::persistence::test
