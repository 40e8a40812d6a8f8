#pragma once
// Shared fixture for the persistence tests: a fresh temporary directory per test, a controllable
// clock, and helpers to reach the database file directly (records: record_builders.hpp).

#include "record_builders.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>

namespace ep::persistence::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class store_fixture : public ::testing::Test
{
protected:
    void SetUp() override
    {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / ("ep-persistence-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(counter++) + "-" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        db_path_ = dir_ / "sub" / "runs.db";  // "sub" exercises parent-directory creation
    }

    void TearDown() override
    {
        std::error_code ec;
        fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(dir_, ec);
    }

    /// Options whose clock the test controls (advance with `clock_ms_ += …`).
    sqlite_options options()
    {
        sqlite_options o;
        o.clock = [this] { return timestamp(std::chrono::milliseconds(clock_ms_.load())); };
        return o;
    }

    std::unique_ptr<sqlite_store> open_store(sqlite_options o)
    {
        auto r = sqlite_store::open(db_path_, std::move(o));
        if (!r)
            ADD_FAILURE() << "open failed: " << r.error().to_string();
        return r ? std::move(*r) : nullptr;
    }
    std::unique_ptr<sqlite_store> open_store() { return open_store(options()); }

    static std::string read_bytes(const fs::path& p)
    {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    /// Runs SQL on the database through a separate raw connection (to plant triggers, fake a
    /// newer schema, …), failing the test on error.
    void raw_exec(const std::string& sql)
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
        sqlite3_free(err);
        sqlite3_close(db);
    }

    fs::path dir_;
    fs::path db_path_;
    std::atomic<std::int64_t> clock_ms_{1'700'000'000'000};
};

}  // namespace ep::persistence::test
