// PostgreSQL only: passwords never shown or stored, migrations under the advisory lock, the
// server's clock for leases and no pid checks, lock timeouts, connection loss, text cleaning.

#include "dead_owner.hpp"
#include "postgres/schema.hpp"
#include "postgres/text.hpp"
#include "postgres_server.hpp"
#include "record_builders.hpp"
#include "unknown_cost_check.hpp"

#include <ep/persistence/open_store.hpp>
#include <ep/persistence/run_id.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <thread>

namespace ep::persistence::conformance {
namespace {

using namespace ep::persistence::test;
using namespace std::chrono_literals;

class postgres_store_test : public ::testing::Test
{
protected:
    void SetUp() override
    {
        std::string why;
        auto server = postgres_server_uri(why);
        if (!server)
            GTEST_SKIP() << "PostgreSQL is not available: " << why;
        server_ = *server;
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        schema_ = std::make_unique<postgres_schema>(server_, info->name());
        // Our own application_name, so that a test can find (and cut) its store's connections.
        uri_ = with_parameter(schema_->uri(), "application_name=" + schema_->name());
    }

    std::unique_ptr<store> open(store_options o = {})
    {
        auto r = open_store(uri_, o);
        EXPECT_TRUE(r) << r.error().to_string();
        return r ? std::move(*r) : nullptr;
    }

    /// One value from the test's schema, through a connection of its own.
    std::string query(const std::string& sql)
    {
        pqxx::connection c(schema_->uri());
        pqxx::nontransaction n(c);
        const auto r = n.exec1(sql);
        return r[0].is_null() ? std::string("NULL") : r[0].as<std::string>();
    }

    /// Ends the server side of every connection this test's stores hold, and waits until they
    /// are gone.
    void cut_store_connections()
    {
        const std::string mine = " FROM pg_stat_activity WHERE application_name = '" + schema_->name() + "'";
        EXPECT_NE(query("SELECT count(pg_terminate_backend(pid))" + mine), "0");
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (query("SELECT count(*)" + mine) != "0" && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);
    }

    std::string server_;
    std::unique_ptr<postgres_schema> schema_;
    std::string uri_;
};

TEST_F(postgres_store_test, a_password_in_the_uri_is_never_in_a_message)
{
    // trust authentication ignores the password: the store opens, and then fails on purpose.
    const std::string secret = "hunter2-do-not-print";
    auto with_password = uri_;
    with_password.replace(with_password.find("://") + 3, 0, "ep:" + secret + "@");
    auto r = open_store(with_parameter(with_password, "dbname=no_such_database"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::not_found) << r.error().to_string();
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("ep:***@"), std::string::npos) << r.error().message;

    auto unreachable = open_store(with_parameter(with_password, "host=/nonexistent-ep-test-dir"));
    ASSERT_FALSE(unreachable);
    EXPECT_EQ(unreachable.error().code, persistence_errc::io_error);
    EXPECT_EQ(unreachable.error().message.find(secret), std::string::npos) << unreachable.error().message;

    // Nor is it stored anywhere: after a whole run, no row of any table holds it.
    auto s = open_store(with_password);
    ASSERT_TRUE(s) << s.error().to_string();
    const auto id = (*s)->create_run(make_run()).value().id;
    ASSERT_TRUE((*s)->commit_phase(make_phase(id, "design"), make_events("design", 2)));
    auto dup = (*s)->create_run([&] {
        auto r2 = make_run();
        r2.id = id;
        return r2;
    }());
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().message.find(secret), std::string::npos) << dup.error().message;
    for (const char* table : {"runs", "phases", "attempts", "events", "ep_schema_version"})
        EXPECT_EQ(
            query(std::string("SELECT count(*) FROM ") + table + " t WHERE t::text LIKE '%" + secret + "%'"),
            "0")
            << table;
}

TEST_F(postgres_store_test, a_fresh_database_is_migrated_once_by_concurrent_openers)
{
    std::vector<std::thread> openers;
    std::atomic<int> opened{0};
    for (int i = 0; i < 4; ++i)
        openers.emplace_back([&] {
            auto r = open_store(uri_);
            EXPECT_TRUE(r) << r.error().to_string();
            if (r && (*r)->list_runs(1))
                ++opened;
        });
    for (auto& t : openers)
        t.join();
    EXPECT_EQ(opened.load(), 4);
    EXPECT_EQ(query("SELECT count(*) FROM ep_schema_version"), "1");
    EXPECT_EQ(query("SELECT version FROM ep_schema_version"),
              std::to_string(postgres::latest_schema_version()));
    EXPECT_EQ(query("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), "5");
}

TEST_F(postgres_store_test, a_newer_schema_is_refused_and_left_alone)
{
    {
        auto s = open();
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->create_run(make_run()));
    }
    const auto future = std::to_string(postgres::latest_schema_version() + 1);
    schema_->exec("UPDATE ep_schema_version SET version = " + future);
    for (bool read_only : {false, true})
    {
        store_options o;
        o.read_only = read_only;
        auto r = open_store(uri_, o);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, persistence_errc::schema_too_new) << r.error().to_string();
        EXPECT_NE(r.error().message.find("newer"), std::string::npos);
    }
    EXPECT_EQ(query("SELECT version FROM ep_schema_version"), future);
    EXPECT_EQ(query("SELECT count(*) FROM runs"), "1");
}

// Version 3 lets a phase's cost be unknown (NULL). A version 2 database keeps its costs and
// accepts unknown ones once an opener migrated it.
TEST_F(postgres_store_test, a_version_2_database_keeps_its_costs_and_accepts_unknown_ones)
{
    schema_->exec(std::string(postgres::migrations()[0].sql) + postgres::migrations()[1].sql + R"sql(
        UPDATE ep_schema_version SET version = 2;
        INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, created_ms, updated_ms,
                          finished_ms)
            VALUES ('r1', 'sdlc', 'name: sdlc', 'h', '{}', 'A', 'failed', 1, 2, 2);
        INSERT INTO phases (run_id, phase_id, status, output_text, provider, model, cost_usd, started_ms,
                            finished_ms, attempts)
            VALUES ('r1', 'design', 'completed', 'the design', 'openai', 'gpt-4o', 0.5, 10, 20, 1);
    )sql");
    EXPECT_EQ(query("SELECT is_nullable FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name = 'phases' AND column_name = 'cost_usd'"),
              "NO");
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(query("SELECT version FROM ep_schema_version"), std::to_string(postgres::latest_schema_version()));
    EXPECT_EQ(query("SELECT is_nullable FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name = 'phases' AND column_name = 'cost_usd'"),
              "YES");
    auto design = s->get_phase("r1", "design");
    ASSERT_TRUE(design) << design.error().to_string();
    EXPECT_EQ(design->cost_usd, 0.5);

    expect_an_unknown_cost_is_kept(*s, "r1", 0.5);
}

TEST_F(postgres_store_test, leases_are_judged_on_the_servers_clock)
{
    auto s = open();  // no injected clock
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    auto taken = s->acquire_lease(id, "host-a:1", 1h);
    ASSERT_TRUE(taken) << taken.error().to_string();
    const auto server_ms = std::stoll(query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"));
    ASSERT_TRUE(taken->heartbeat);
    EXPECT_LE(std::llabs(taken->heartbeat->time_since_epoch().count() - server_ms), 5000);

    auto other = open();
    ASSERT_TRUE(other);
    EXPECT_EQ(other->acquire_lease(id, "host-b:2", 1h).error().code, persistence_errc::lease_held);
    // Age the heartbeat on the server's side (as a crashed owner's would): then it is stale.
    schema_->exec("UPDATE runs SET heartbeat_ms = heartbeat_ms - 120000");
    auto stale = other->acquire_lease(id, "host-b:2", 60s);
    ASSERT_TRUE(stale) << stale.error().to_string();
    EXPECT_EQ(s->renew_lease(id, "host-a:1").error().code, persistence_errc::lease_held);
}

TEST_F(postgres_store_test, a_dead_local_owner_is_not_taken_over_before_its_heartbeat_is_stale)
{
    // SQLite takes such a lease over at once (the pid is checked); a shared database cannot
    // probe processes on other machines, so only the heartbeat counts.
    const auto dead = dead_local_owner();
    const auto me = default_owner();
    ASSERT_TRUE(owner_is_dead_local_process(dead));

    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->acquire_lease(id, dead, 30s));
    auto refused = s->acquire_lease(id, me, 30s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, persistence_errc::lease_held);
    EXPECT_NE(refused.error().message.find(dead), std::string::npos) << refused.error().message;
}

TEST_F(postgres_store_test, a_lock_held_longer_than_the_busy_timeout_is_busy)
{
    store_options o;
    o.busy_timeout = 200ms;
    auto s = open(o);
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    pqxx::connection holder(schema_->uri());
    pqxx::work txn(holder);
    txn.exec("SELECT 1 FROM runs WHERE id = " + txn.quote(id) + " FOR UPDATE");
    const auto start = std::chrono::steady_clock::now();
    auto r = s->set_run_status(id, run_status::failed, "x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::busy) << r.error().to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    EXPECT_EQ(r.error().cause, make_postgres_error_code("55P03"));
    txn.abort();
    EXPECT_TRUE(s->set_run_status(id, run_status::failed, "x"));
}

TEST_F(postgres_store_test, a_lost_connection_fails_one_call_and_the_next_reconnects)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    cut_store_connections();
    auto lost = s->get_run(id);
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, persistence_errc::io_error);
    EXPECT_NE(lost.error().message.find("reconnects"), std::string::npos) << lost.error().message;
    auto again = s->commit_phase(make_phase(id, "design"), make_events("design", 1));
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(*again, 1);
}

TEST_F(postgres_store_test, a_group_commit_cut_by_a_lost_connection_fails_as_a_whole)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->begin_batch().value());
    ASSERT_TRUE(s->commit_phase(make_phase(id, "a"), make_events("a", 1)));
    cut_store_connections();
    auto b = s->commit_phase(make_phase(id, "b"), {});
    ASSERT_FALSE(b);
    auto c = s->commit_phase(make_phase(id, "c"), {});  // later calls of the batch fail too
    ASSERT_FALSE(c);
    auto ended = s->end_batch();
    ASSERT_FALSE(ended);
    EXPECT_EQ(ended.error().code, persistence_errc::io_error);
    EXPECT_TRUE(s->get_phases(id)->empty()) << "nothing of the batch was committed";
    EXPECT_TRUE(s->begin_batch().value());  // and the store goes on
    EXPECT_TRUE(s->commit_phase(make_phase(id, "a"), {}));
    EXPECT_TRUE(s->end_batch());
    EXPECT_EQ(s->get_phases(id)->size(), 1u);
}

TEST_F(postgres_store_test, durability_full_commits)
{
    store_options o;
    o.sync = durability::full;
    auto s = open(o);
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    EXPECT_EQ(s->commit_phase(make_phase(id, "design"), make_events("design", 3)).value(), 3);
}

TEST(postgres_text, valid_utf8_is_kept_and_everything_else_becomes_a_replacement_character)
{
    using postgres::storable_text;
    const std::string fffd = "\xEF\xBF\xBD";
    struct text_case
    {
        std::string in;
        std::string out;
    };
    const text_case cases[] = {
        {"plain ascii", "plain ascii"},
        {"é ✓ 😀 \xF4\x8F\xBF\xBF", "é ✓ 😀 \xF4\x8F\xBF\xBF"},  // up to U+10FFFF
        {std::string("a\0b", 3), "a" + fffd + "b"},            // NUL
        {"\xff", fffd},                                        // not a lead byte
        {"x\xc3", "x" + fffd},                                 // cut at the end
        {"\xc3(", fffd + "("},                                 // bad continuation
        {"\xc0\xaf", fffd + fffd},                             // overlong '/'
        {"\xe0\x80\xaf", fffd + fffd + fffd},                  // overlong, 3 bytes
        {"\xed\xa0\x80", fffd + fffd + fffd},                  // a surrogate
        {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},       // above U+10FFFF
        {"ok\xe2\x9c", "ok" + fffd + fffd},                    // a 3-byte sequence cut short
        {"", ""},
    };
    for (const auto& c : cases)
        EXPECT_EQ(storable_text(c.in), c.out) << testing::PrintToString(c.in);
}

}  // namespace
}  // namespace ep::persistence::conformance
