// postgres_store: connecting, session settings, migrations, error mapping, integrity check and
// group commit. The record operations live in runs.cpp, phases.cpp and log.cpp.

#include "invariants.hpp"
#include "postgres/schema.hpp"
#include "postgres/statements.hpp"
#include "postgres/store_impl.hpp"

#include <chrono>

namespace ep::persistence {

namespace {

/// How long libpq may take to reach the server and log in, unless the URI says otherwise.
constexpr std::chrono::seconds connect_timeout{10};

// "ERROR:  message\nDETAIL: …": only the first line, whose text is the server's or libpq's own
// words. Details may quote a row (stored payloads), so they never reach a message.
std::string first_line(const char* what)
{
    std::string s(what);
    s = s.substr(0, s.find('\n'));
    for (const char* prefix : {"ERROR:  ", "FATAL:  "})
        if (s.rfind(prefix, 0) == 0)
            s.erase(0, std::string(prefix).size());
    return s;
}

// The URI libpq gets: with connect_timeout unless it has one.
std::string with_connect_timeout(const std::string& uri)
{
    if (uri.find("connect_timeout=") != std::string::npos)
        return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") +
           "connect_timeout=" + std::to_string(connect_timeout.count());
}

}  // namespace

postgres_store::impl::impl(std::string u, store_options o)
    : uri(std::move(u)), label(redact_store_uri(uri)), options(std::move(o))
{}

std::optional<std::int64_t> postgres_store::impl::clock_ms() const
{
    return options.clock ? std::optional<std::int64_t>(options.clock().time_since_epoch().count())
                         : std::nullopt;
}

store_error postgres_store::impl::fail(persistence_errc code, const std::string& what) const
{
    return store_error(make_error_code(code), label + ": " + what);
}

store_error postgres_store::impl::fail(const std::exception& e, const std::string& what)
{
    store_error err(make_error_code(persistence_errc::io_error),
                    label + ": " + what + ": " + first_line(e.what()));
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
        sql != nullptr && !sql->sqlstate().empty())
    {
        const auto& state = sql->sqlstate();
        err.code = make_error_code(classify_postgres_error(state));
        err.cause = make_postgres_error_code(state);
        if (state == "23503")  // foreign_key_violation: a record of a run that does not exist
        {
            err.code = make_error_code(persistence_errc::not_found);
            err.message = label + ": " + what + ": the run does not exist";
        }
        else if (state == "23505")  // unique_violation
            err.message = label + ": " + what + ": it already exists";
    }
    const bool lost = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
                      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr || (conn && !conn->is_open());
    if (lost)
    {
        err.message += dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr
                           ? " (the connection broke while committing: the outcome is unknown)"
                           : " (the connection is lost; the next call reconnects)";
        if (batch)
        {
            batch_failure = err;  // the group commit went with the connection
            batch.reset();
        }
        conn.reset();
    }
    return err;
}

result<void> postgres_store::impl::ensure_connected()
{
    if (conn && conn->is_open())
        return {};
    conn.reset();
    try
    {
        auto c = std::make_unique<pqxx::connection>(with_connect_timeout(uri));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        // A silent reconnect inside libpqxx would skip the session settings below: we
        // reconnect ourselves, on the next call after a loss.
        c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
        // application_name 'ep' unless the URI names the connections itself.
        std::string session =
            uri.find("application_name=") == std::string::npos ? "SET application_name = 'ep';" : "";
        session += " SET client_encoding = 'UTF8'; SET lock_timeout = " +
                   std::to_string(options.busy_timeout.count()) + ";";
        if (options.sync == durability::full)
            session += " SET synchronous_commit = on;";
        if (options.read_only)
            session += " SET default_transaction_read_only = on;";
        std::string encoding;
        {
            pqxx::nontransaction setup(*c, "ep_session");
            setup.exec(session);
            encoding = setup.exec1("SHOW server_encoding")[0].as<std::string>();
        }
        if (encoding != "UTF8" && encoding != "SQL_ASCII")
            return fail(persistence_errc::io_error,
                        "the database's encoding is " + encoding +
                            "; EP needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8')");
        for (const auto& st : postgres::prepared_statements())
            c->prepare(st.name, st.sql);
        conn = std::move(c);
        return {};
    }
    catch (const std::exception& e)
    {
        // libpq reports a failed login without a SQLSTATE: its words are all there is.
        const auto why = first_line(e.what());
        const bool no_database =
            why.find("database \"") != std::string::npos && why.find("does not exist") != std::string::npos;
        return fail(no_database ? persistence_errc::not_found : persistence_errc::io_error,
                    "cannot connect to the database: " + why);
    }
}

namespace postgres {

bool run_exists(pqxx::transaction_base& txn, const std::string& run_id)
{
    return !txn.exec_prepared("run_exists", run_id).empty();
}

}  // namespace postgres

namespace {

// The schema version the database holds: 0 when EP's tables are not there (in the current
// search path).
int read_schema_version(pqxx::transaction_base& txn)
{
    if (txn.exec1("SELECT to_regclass('ep_schema_version') IS NOT NULL")[0].as<bool>() == false)
        return 0;
    return txn.exec1("SELECT COALESCE(MAX(version), 0) FROM ep_schema_version")[0].as<int>();
}

store_error too_new(const postgres_store::impl& s, int version)
{
    return s.fail(persistence_errc::schema_too_new,
                  "schema version " + std::to_string(version) +
                      " was written by a newer EP (this build supports up to " +
                      std::to_string(postgres::latest_schema_version()) +
                      "); upgrade EP. Nothing was changed");
}

// Read-only stores never migrate: they only say why they cannot be used.
result<void> check_readable(postgres_store::impl& s)
{
    return s.read("reading the schema version", [&](pqxx::transaction_base& txn) -> result<void> {
        const int version = read_schema_version(txn);
        if (version == 0)
            return s.fail(persistence_errc::not_found,
                          "no EP run store here (no table ep_schema_version in the "
                          "connection's search path)");
        if (version > postgres::latest_schema_version())
            return too_new(s, version);
        if (version < postgres::latest_schema_version())
            return s.fail(persistence_errc::invalid_state,
                          "schema version " + std::to_string(version) + " is older than this build's (" +
                              std::to_string(postgres::latest_schema_version()) +
                              ") and cannot be migrated read-only");
        return {};
    });
}

// Applies the migrations the database lacks, each in its own transaction with its version
// bump, holding the advisory lock so that concurrent openers migrate once.
result<void> migrate(postgres_store::impl& s)
{
    const std::string what = "migrating the schema";
    try
    {
        {
            pqxx::nontransaction lock(*s.conn, "ep_migration_lock");
            lock.exec("SELECT pg_advisory_lock(" + std::to_string(postgres::migration_lock_key) + ")");
        }
        struct unlock_at_exit
        {
            pqxx::connection& c;
            ~unlock_at_exit()
            {
                try
                {
                    pqxx::nontransaction u(c, "ep_migration_unlock");
                    u.exec("SELECT pg_advisory_unlock(" + std::to_string(postgres::migration_lock_key) + ")");
                }
                catch (...)  // a lost connection releases the lock itself
                {}
            }
        } unlock{*s.conn};

        pqxx::work txn(*s.conn, "ep_migration");
        int version = read_schema_version(txn);
        if (version > postgres::latest_schema_version())
            return too_new(s, version);
        if (txn.exec1("SELECT current_schema() IS NULL")[0].as<bool>())
            return s.fail(
                persistence_errc::io_error,
                "no schema to create EP's tables in: the connection's search_path names no existing "
                "schema");
        for (const auto& m : postgres::migrations())
        {
            if (m.version <= version)
                continue;
            txn.exec(m.sql);
            txn.exec("UPDATE ep_schema_version SET version = " + std::to_string(m.version));
            version = m.version;
        }
        txn.commit();
        return {};
    }
    catch (const std::exception& e)
    {
        return s.fail(e, what);
    }
}

}  // namespace

int postgres_store::schema_version() noexcept
{
    return postgres::latest_schema_version();
}

postgres_store::postgres_store(std::unique_ptr<impl> i) noexcept : impl_(std::move(i)) {}
postgres_store::~postgres_store()
{
    impl_->batch.reset();  // before the connection it runs on
}

result<std::unique_ptr<postgres_store>> postgres_store::open(const std::string& uri,
                                                             const store_options& options)
{
    auto s = std::make_unique<impl>(uri, options);
    if (auto r = s->ensure_connected(); !r)
        return std::move(r).error();
    if (auto r = options.read_only ? check_readable(*s) : migrate(*s); !r)
        return std::move(r).error();
    return std::unique_ptr<postgres_store>(new postgres_store(std::move(s)));
}

// ---- maintenance ---------------------------------------------------------------------------

result<void> postgres_store::integrity_check()
{
    std::lock_guard lock(impl_->mutex);
    return impl_->read("running the integrity check", [&](pqxx::transaction_base& txn) -> result<void> {
        std::string problems;
        const auto collect = [&](const pqxx::result& rows) {
            for (const auto& row : rows)
            {
                problems += problems.empty() ? "" : "; ";
                problems += detail::run_label(row[0].as<std::string>()) + ": " + row[1].as<std::string>();
            }
        };
        for (const auto& q : detail::invariant_queries)
            collect(txn.exec(q.sql));
        collect(txn.exec_prepared("last_seq_mismatch"));
        if (!problems.empty())
            return impl_->fail(persistence_errc::corrupt, "integrity check failed: " + problems);
        return {};
    });
}

// ---- group commit --------------------------------------------------------------------------

result<bool> postgres_store::begin_batch()
{
    std::lock_guard lock(impl_->mutex);
    if (impl_->in_group_commit())
        return impl_->fail(persistence_errc::invalid_state, "begin_batch: a batch is already open");
    if (auto c = impl_->ensure_connected(); !c)
        return std::move(c).error();
    try
    {
        impl_->batch = std::make_unique<pqxx::work>(*impl_->conn, "ep_batch");
        return true;
    }
    catch (const std::exception& e)
    {
        return impl_->fail(e, "opening a group commit");
    }
}

result<void> postgres_store::end_batch()
{
    std::lock_guard lock(impl_->mutex);
    if (auto failure = std::exchange(impl_->batch_failure, std::nullopt))
    {
        impl_->batch.reset();
        return std::move(*failure);
    }
    if (!impl_->batch)
        return impl_->fail(persistence_errc::invalid_state, "end_batch: no batch is open");
    try
    {
        impl_->batch->commit();
        impl_->batch.reset();
        return {};
    }
    catch (const std::exception& e)
    {
        auto err = impl_->fail(e, "committing a group commit");
        impl_->batch.reset();
        impl_->batch_failure.reset();
        return err;
    }
}

}  // namespace ep::persistence
