// Opening, schema versioning and the pragmas a fresh database gets.

#include "sqlite/schema.hpp"
#include "store_fixture.hpp"
#include "unknown_cost_check.hpp"

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

TEST_F(migrations, a_version_1_database_keeps_its_phases_and_attempts_when_migrated)
{
    // A database as EP's first schema left it, with one run, two phases and an attempt.
    fs::create_directories(db_path_.parent_path());
    raw_exec(std::string(sqlite::migrations()[0].sql) + R"sql(
        PRAGMA user_version = 1;
        INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, created_ms, updated_ms,
                          finished_ms)
            VALUES ('r1', 'sdlc', 'name: sdlc', 'h', '{}', 'A', 'failed', 1, 2, 2);
        INSERT INTO phases (run_id, phase_id, status, output_text, provider, model, started_ms, finished_ms, attempts)
            VALUES ('r1', 'design', 'completed', 'the design', 'openai', 'gpt-4o', 10, 20, 1),
                   ('r1', 'review', 'failed', '', 'openai', 'gpt-4o', 30, 40, 1);
        INSERT INTO attempts (run_id, phase_id, attempt, provider, model, outcome, latency_ms, started_ms)
            VALUES ('r1', 'design', 1, 'openai', 'gpt-4o', 'ok', 5, 10);
    )sql");
    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_EQ(user_version(db_path_), sqlite_store::schema_version());
    auto phases = s->get_phases("r1");
    ASSERT_TRUE(phases) << phases.error().to_string();
    ASSERT_EQ(phases->size(), 2u);
    EXPECT_EQ((*phases)[0].phase_id, "design");
    EXPECT_EQ((*phases)[0].output_text, "the design");
    EXPECT_EQ((*phases)[1].status, phase_status::failed);
    auto attempts = s->get_attempts("r1");
    ASSERT_TRUE(attempts);
    ASSERT_EQ(attempts->size(), 1u);
    EXPECT_EQ(attempts->front().latency, std::chrono::milliseconds(5));
    // The migrated tables are keyed by their primary key alone, and still refuse to overwrite
    // a completed phase.
    EXPECT_EQ(
        pragma_text(db_path_, "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = 'phases'"),
        "1");
    auto again = make_phase("r1", "design");
    again.status = phase_status::failed;
    EXPECT_EQ(s->commit_phase(again, {}).error().code, persistence_errc::invalid_state);
    EXPECT_TRUE(s->integrity_check());
}

// A store as schema version 2 left it (built by the v2 migrations themselves): two runs created
// in the same millisecond, a completed and a failed phase, attempts and events.
void build_version_2_store(const fs::path& path)
{
    fs::create_directories(path.parent_path());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql = std::string(sqlite::migrations()[0].sql) + sqlite::migrations()[1].sql + R"sql(
        PRAGMA user_version = 2;
        PRAGMA journal_mode = WAL;
        INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, error, owner, heartbeat_ms,
                          created_ms, updated_ms, finished_ms)
            VALUES ('r-b', 'sdlc', 'name: sdlc', 'h', '{"task":"x"}', 'A', 'failed', 'review failed', NULL, NULL,
                    1000, 2000, 2000),
                   ('r-a', 'sdlc', 'name: sdlc', 'h', '{}', 'B', 'running', '', 'host:1', 1500, 1000, 1500, NULL);
        INSERT INTO phases (run_id, phase_id, status, output_text, output_json, provider, model, input_tokens,
                            output_tokens, cost_usd, started_ms, finished_ms, error, attempts)
            VALUES ('r-b', 'design', 'completed', 'the design', '{"ok":true}', 'openai', 'gpt-4o', 10, 20, 0.5,
                    1100, 1200, '', 1),
                   ('r-b', 'review', 'failed', '', NULL, 'openai', 'gpt-4o', 0, 0, 0, 1300, 1400, 'overloaded', 2);
        INSERT INTO attempts (run_id, phase_id, attempt, provider, model, outcome, error, http_status, latency_ms,
                              started_ms)
            VALUES ('r-b', 'review', 1, 'openai', 'gpt-4o', 'failed', 'overloaded', 529, 50, 1300),
                   ('r-b', 'review', 2, 'openai', 'gpt-4o', 'failed', 'overloaded', 529, 60, 1350);
        INSERT INTO events (run_id, seq, ts_ms, type, payload)
            VALUES ('r-b', 1, 1000, 'run_started', '{}'), ('r-b', 2, 1200, 'phase_completed', '{"phase":"design"}');
    )sql";
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
}

TEST_F(migrations, a_version_2_store_stays_readable_and_resumable_after_migrating)
{
    build_version_2_store(db_path_);
    ASSERT_EQ(user_version(db_path_), 2);
    // Read-only tools refuse to migrate: the store still says version 2 afterwards.
    auto o = options();
    o.read_only = true;
    EXPECT_EQ(sqlite_store::open(db_path_, o).error().code, persistence_errc::invalid_state);

    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_EQ(user_version(db_path_), sqlite_store::schema_version());
    EXPECT_EQ(pragma_text(db_path_, "SELECT count(*) FROM sqlite_schema WHERE name IN ('phases', 'attempts')"
                                    " AND sql LIKE '%WITHOUT ROWID%' AND sql LIKE '%iteration, item%'"),
              "2");

    // Everything is still there (rebuilding runs did not cascade), in the same list order.
    auto runs = s->list_runs(10);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 2u);
    EXPECT_EQ((*runs)[0].id, "r-a");  // same millisecond: the later insert first, as before
    EXPECT_EQ((*runs)[1].id, "r-b");
    EXPECT_EQ((*runs)[1].totals.output_tokens, 20);
    EXPECT_EQ((*runs)[1].totals.phases_failed, 1);
    EXPECT_EQ((*runs)[1].options, nlohmann::json::object());
    EXPECT_EQ((*runs)[1].parent_run_id, "");
    EXPECT_EQ((*runs)[1].inputs, (nlohmann::json{{"task", "x"}}));
    EXPECT_EQ((*runs)[0].owner, "host:1");
    auto phases = s->get_phases("r-b");
    ASSERT_TRUE(phases);
    ASSERT_EQ(phases->size(), 2u);
    EXPECT_EQ((*phases)[0].phase_id, "design");
    EXPECT_EQ((*phases)[0].iteration, 1);
    EXPECT_FALSE((*phases)[0].item);
    EXPECT_EQ((*phases)[0].output_json, (nlohmann::json{{"ok", true}}));
    EXPECT_EQ((*phases)[1].error, "overloaded");
    auto attempts = s->get_attempts("r-b");
    ASSERT_TRUE(attempts);
    ASSERT_EQ(attempts->size(), 2u);
    EXPECT_EQ((*attempts)[1].http_status, 529);
    EXPECT_EQ((*attempts)[1].iteration, 1);
    EXPECT_EQ(s->get_events("r-b")->size(), 2u);

    // Resumable: the completed phase stays final, the failed one runs again, and the log goes on.
    EXPECT_EQ(s->begin_phase("r-b", "design").error().code, persistence_errc::invalid_state);
    ASSERT_TRUE(s->begin_phase("r-b", "review"));
    auto seq = s->commit_phase(make_phase("r-b", "review"), make_events("review", 1),
                               {make_attempt("r-b", "review", 3)});
    ASSERT_TRUE(seq) << seq.error().to_string();
    EXPECT_EQ(*seq, 3);
    ASSERT_TRUE(s->set_run_status("r-b", run_status::waiting));  // the new status is accepted
    EXPECT_TRUE(s->integrity_check());
}

// Version 4 lets a phase's cost be unknown (NULL). A version 3 store keeps its costs and
// accepts unknown ones once migrated.
TEST_F(migrations, a_version_3_store_keeps_its_costs_and_accepts_unknown_ones)
{
    fs::create_directories(db_path_.parent_path());
    raw_exec(std::string(sqlite::migrations()[0].sql) + sqlite::migrations()[1].sql + sqlite::migrations()[2].sql +
             R"sql(
        PRAGMA user_version = 3;
        INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, created_ms, updated_ms,
                          finished_ms)
            VALUES ('r1', 'sdlc', 'name: sdlc', 'h', '{}', 'A', 'failed', 1, 2, 2);
        INSERT INTO phases (run_id, phase_id, iteration, item, status, output_text, provider, model, input_tokens,
                            output_tokens, cost_usd, started_ms, finished_ms, attempts)
            VALUES ('r1', 'design', 1, -1, 'completed', 'the design', 'openai', 'gpt-4o', 10, 20, 0.5, 10, 20, 1),
                   ('r1', 'build', 2, 3, 'completed', 'code', 'openai', 'gpt-4o', 1, 2, 0.25, 30, 40, 1);
    )sql");
    ASSERT_NE(pragma_text(db_path_, "SELECT \"notnull\" FROM pragma_table_info('phases') WHERE name = 'cost_usd'"), "0");
    auto s = open_store();
    ASSERT_TRUE(s);
    EXPECT_EQ(user_version(db_path_), sqlite_store::schema_version());
    EXPECT_EQ(pragma_text(db_path_, "SELECT \"notnull\" FROM pragma_table_info('phases') WHERE name = 'cost_usd'"),
              "0");
    EXPECT_EQ(pragma_text(db_path_, "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = 'phases'"),
              "1");
    auto phases = s->get_phases("r1");
    ASSERT_TRUE(phases) << phases.error().to_string();
    ASSERT_EQ(phases->size(), 2u);
    EXPECT_EQ((*phases)[0].cost_usd, 0.5);
    EXPECT_EQ((*phases)[1].iteration, 2);
    EXPECT_EQ((*phases)[1].item, 3);
    EXPECT_EQ((*phases)[1].cost_usd, 0.25);

    expect_an_unknown_cost_is_kept(*s, "r1", 0.75);
    EXPECT_TRUE(s->integrity_check());
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

}  // namespace
}  // namespace ep::persistence::test
