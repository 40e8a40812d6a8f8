// The run-side commands against bad stores and ids: a clear message, exit 2 (or 1), and no
// damage to what is already stored.
#include "permissions.hpp"

#include <ep/cli/cli.hpp>
#include <ep/cli/commands.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace ep::cli {
namespace {

namespace ps = ep::persistence;

class bad_input_test : public ::testing::Test
{
protected:
    bad_input_test()
    {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() / ("ep-bad-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(dir_);
        db_ = dir_ / "runs.db";
    }
    ~bad_input_test() override
    {
        std::error_code ec;
        std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
        std::filesystem::remove_all(dir_, ec);
    }

    // Runs one command with --db db_; returns the exit code, fills out_/err_.
    int command(int (*fn)(cli_context&), cli_options o)
    {
        o.db = db_.string();
        out_.str({});
        err_.str({});
        auto env = ep::environment::from_map({{"PATH", "/nonexistent"}});
        cli_context ctx{o, out_, err_, env, std::filesystem::path(EP_SOURCE_DIR) / "workflows"};
        return fn(ctx);
    }

    std::string make_run()
    {
        auto s = ps::sqlite_store::open(db_);
        EXPECT_TRUE(s);
        ps::run_record r;
        r.workflow = "wf";
        r.definition = "name: wf\nphases:\n  a: {persona: architect, prompt: x}\n";
        r.mix = "A";
        r.status = ps::run_status::failed;
        return (*s)->create_run(r).value().id;
    }

    std::filesystem::path dir_, db_;
    std::ostringstream out_, err_;
};

TEST_F(bad_input_test, unknown_run_id_is_exit_2_with_a_clear_message)
{
    const auto id = make_run();
    cli_options o;
    o.mode = cli_mode::resume;
    o.run_id = "20990101T000000Z-00000000";
    EXPECT_EQ(command(resume_command, o), 2);
    EXPECT_NE(err_.str().find("unknown run id"), std::string::npos) << err_.str();
    o.mode = cli_mode::show;
    EXPECT_EQ(command(show_command, o), 2);
    EXPECT_NE(err_.str().find("unknown run id"), std::string::npos) << err_.str();
    // The existing run is still there.
    o.run_id = id;
    EXPECT_EQ(command(show_command, o), 0);
    EXPECT_NE(out_.str().find(id), std::string::npos);
}

TEST_F(bad_input_test, list_without_a_store_says_there_are_no_runs)
{
    cli_options o;
    o.mode = cli_mode::list;
    EXPECT_EQ(command(list_command, o), 0);
    EXPECT_NE(err_.str().find("no runs yet"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(db_)) << "inspection never creates a store";
}

TEST_F(bad_input_test, list_shows_runs)
{
    const auto id = make_run();
    cli_options o;
    o.mode = cli_mode::list;
    EXPECT_EQ(command(list_command, o), 0);
    EXPECT_NE(out_.str().find(id), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("failed"), std::string::npos);
}

TEST_F(bad_input_test, corrupt_database_is_exit_2_and_left_untouched)
{
    {
        std::ofstream f(db_, std::ios::binary);
        f << std::string(8192, 'x');
    }
    cli_options o;
    o.mode = cli_mode::list;
    EXPECT_EQ(command(list_command, o), 2);
    EXPECT_FALSE(err_.str().empty());
    EXPECT_NE(err_.str().find(db_.string()), std::string::npos) << err_.str();
    o.mode = cli_mode::resume;
    o.run_id = "x";
    EXPECT_EQ(command(resume_command, o), 2);
    std::ifstream f(db_, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(f)), {});
    EXPECT_EQ(content, std::string(8192, 'x'));
}

TEST_F(bad_input_test, newer_schema_version_is_refused_and_runs_are_kept)
{
    const auto id = make_run();
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_.string().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    cli_options o;
    o.mode = cli_mode::resume;
    o.run_id = id;
    const int code = command(resume_command, o);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err_.str().find("newer"), std::string::npos) << err_.str();
    // Put the version back: the run is intact.
    ASSERT_EQ(sqlite3_open(db_.string().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 1", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    auto s = ps::sqlite_store::open(db_);
    ASSERT_TRUE(s);
    EXPECT_TRUE((*s)->get_run(id));
}

TEST_F(bad_input_test, read_only_database_cannot_be_resumed_but_can_be_shown)
{
    const auto id = make_run();
    ep::testing::run_with_permissions_enforced(dir_, [&] {
        std::filesystem::permissions(db_, std::filesystem::perms::owner_read);
        std::filesystem::permissions(dir_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        cli_options o;
        o.mode = cli_mode::show;
        o.run_id = id;
        EXPECT_EQ(command(show_command, o), 0) << err_.str();
        o.mode = cli_mode::resume;
        const int code = command(resume_command, o);
        EXPECT_TRUE(code == 2 || code == 1) << code;
        EXPECT_NE(err_.str().find("read-only"), std::string::npos) << err_.str();
    });
}

}  // namespace
}  // namespace ep::cli
