// The conformance suite on SQLite: a file in a fresh temporary directory per test.

#include "conformance.hpp"

#include <sqlite3.h>

#include <filesystem>

namespace ep::persistence::conformance {

namespace {

namespace fs = std::filesystem;

class sqlite_backend final : public backend
{
public:
    explicit sqlite_backend(const std::string& test_id)
        : dir_(fs::temp_directory_path() / ("ep-conformance-" + test_id))
    {
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~sqlite_backend() override
    {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // Through the explicit scheme, so the suite also covers open_store's URI parsing.
    std::string uri() const override { return "sqlite:" + (dir_ / "sub" / "runs.db").string(); }

    void exec(const std::string& sql) override
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir_ / "sub" / "runs.db").c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in: " << sql;
        sqlite3_free(err);
        sqlite3_close(db);
    }

    void fail_inserts_of_event_type(const std::string& type) override
    {
        exec("CREATE TRIGGER ep_test_fail_" + type + " BEFORE INSERT ON events WHEN NEW.type = '" + type +
             "' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
    }

private:
    fs::path dir_;
};

const backend_factory sqlite_factory{"sqlite", [](const std::string& test_id, std::string&) {
                                         return std::make_unique<sqlite_backend>(test_id);
                                     }};

}  // namespace

EP_STORE_CONFORMANCE_INSTANTIATE(sqlite, sqlite_factory);

}  // namespace ep::persistence::conformance
