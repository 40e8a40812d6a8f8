// run_queue: claiming runnable runs with FOR UPDATE SKIP LOCKED, requeueing released ones, and
// LISTEN ep_runnable for idle workers.

#include <ep/persistence/run_queue.hpp>

#include "postgres/store.hpp"
#include "postgres/store_impl.hpp"

#include <pqxx/pqxx>

#include <atomic>

namespace ep::persistence {

namespace {

/// How long connecting may take, unless the URI says otherwise (as postgres_store).
constexpr const char* connect_timeout_param = "connect_timeout=10";

// $1 owner, $2 the injected clock or NULL, $3 ttl ms. The inner SELECT picks the oldest runnable
// row that no other claimer has locked (SKIP LOCKED: claimers never queue behind each other);
// READ COMMITTED re-checks its WHERE on the locked row's newest version, so a row another
// worker claimed a moment ago is not taken twice. Returns (id, fence, waited ms, reclaimed).
constexpr const char* claim_sql =
    "WITH n AS (SELECT " EP_PG_NOW("$2") " AS ms),"
    " c AS (SELECT r.id, r.owner IS NOT NULL AS reclaimed,"
    " CASE WHEN r.owner IS NULL THEN r.updated_ms ELSE COALESCE(r.heartbeat_ms, r.updated_ms) + $3 END AS since"
    " FROM runs r, n WHERE r.status IN ('pending', 'running')"
    " AND (r.owner IS NULL OR r.heartbeat_ms IS NULL OR r.heartbeat_ms < n.ms - $3)"
    " ORDER BY r.created_ms, r.created_seq LIMIT 1 FOR UPDATE OF r SKIP LOCKED)"
    " UPDATE runs SET owner = $1, heartbeat_ms = n.ms, updated_ms = n.ms, fence = runs.fence + 1"
    " FROM c, n WHERE runs.id = c.id"
    " RETURNING runs.id, runs.fence, GREATEST(n.ms - c.since, 0), c.reclaimed";

constexpr const char* requeue_sql =
    "WITH r AS (UPDATE runs SET status = 'pending', error = '', finished_ms = NULL,"
    " updated_ms = " EP_PG_NOW("$2") " WHERE id = $1 AND status = 'interrupted' AND owner IS NULL RETURNING id)"
    " SELECT (SELECT COUNT(*) FROM r), (SELECT COUNT(*) FROM (SELECT pg_notify('ep_runnable_' || left(md5(current_schema()), 16), r.id) FROM r) n)";

// The channel workers of this store LISTEN on: one per schema (statements.cpp notifies it).
constexpr const char* runnable_channel_sql = "SELECT 'ep_runnable_' || left(md5(current_schema()), 16)";

std::string with_connect_timeout(const std::string& uri)
{
    if (uri.find("connect_timeout=") != std::string::npos)
        return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + connect_timeout_param;
}

std::string first_line(const char* what)
{
    std::string s(what);
    s = s.substr(0, s.find('\n'));
    for (const char* prefix : {"ERROR:  ", "FATAL:  "})
        if (s.rfind(prefix, 0) == 0)
            s.erase(0, std::string(prefix).size());
    return s;
}

// Counts notifications; the payload (a run id) is not needed: a woken worker claims the oldest.
class wake_receiver final : public pqxx::notification_receiver
{
public:
    wake_receiver(pqxx::connection_base& c, const std::string& channel, std::atomic<int>& count)
        : pqxx::notification_receiver(c, channel), count_(count)
    {}
    void operator()(const std::string&, int) override { ++count_; }

private:
    std::atomic<int>& count_;
};

}  // namespace

struct run_queue::impl
{
    std::string uri;
    std::string label;  // redacted
    store_options options;
    std::unique_ptr<pqxx::connection> claims;
    std::unique_ptr<pqxx::connection> listen;
    std::unique_ptr<wake_receiver> receiver;  // destroyed before `listen`
    std::atomic<int> notified{0};

    std::optional<std::int64_t> clock_ms() const
    {
        return options.clock ? std::optional<std::int64_t>(options.clock().time_since_epoch().count())
                             : std::nullopt;
    }

    store_error fail(const std::exception& e, const std::string& what)
    {
        store_error err(make_error_code(persistence_errc::io_error), label + ": " + what + ": " + first_line(e.what()));
        if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && !sql->sqlstate().empty())
        {
            err.code = make_error_code(classify_postgres_error(sql->sqlstate()));
            err.cause = make_postgres_error_code(sql->sqlstate());
        }
        return err;
    }

    std::unique_ptr<pqxx::connection> connect()
    {
        auto c = std::make_unique<pqxx::connection>(with_connect_timeout(uri));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        c->inhibit_reactivation(true);  // we reconnect ourselves (and LISTEN again)
#pragma GCC diagnostic pop
        pqxx::nontransaction setup(*c, "ep_queue_session");
        setup.exec(uri.find("application_name=") == std::string::npos ? "SET application_name = 'ep-worker'"
                                                                        : "SELECT 1");
        return c;
    }

    // Runs body on the claims connection, reconnecting once a lost one is noticed.
    template <class F>
    auto on_claims(const std::string& what, F&& body) -> std::invoke_result_t<F, pqxx::connection&>
    {
        try
        {
            if (!claims || !claims->is_open())
                claims = connect();
            return body(*claims);
        }
        catch (const std::exception& e)
        {
            if (claims && !claims->is_open())
                claims.reset();
            if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e))
                claims.reset();
            return fail(e, what);
        }
    }
};

run_queue::run_queue(std::unique_ptr<impl> i) noexcept : impl_(std::move(i)) {}

run_queue::~run_queue()
{
    impl_->receiver.reset();  // before its connection
}

result<std::unique_ptr<run_queue>> run_queue::open(std::string_view uri, const store_options& options)
{
    auto where = parse_store_uri(uri);
    if (!where)
        return where.error();
    if (where->backend != store_location::backend_kind::postgres)
        return store_error(make_error_code(persistence_errc::invalid_argument),
                           redact_store_uri(uri) + ": workers share runs through a PostgreSQL store "
                                                   "(postgres://…); a SQLite file belongs to one process");
    // Creates or migrates the schema exactly as open_store does (under its advisory lock).
    if (auto migrated = postgres_store::open(where->target, options); !migrated)
        return migrated.error();
    auto i = std::make_unique<impl>();
    i->uri = where->target;
    i->label = redact_store_uri(uri);
    i->options = options;
    return std::unique_ptr<run_queue>(new run_queue(std::move(i)));
}

result<std::optional<run_claim>> run_queue::claim(const std::string& owner, std::chrono::milliseconds ttl)
{
    if (owner.empty())
        return store_error(make_error_code(persistence_errc::invalid_argument), "claim: the owner is empty");
    return impl_->on_claims("claiming a runnable run", [&](pqxx::connection& c) -> result<std::optional<run_claim>> {
        pqxx::work txn(c, "ep_claim");  // READ COMMITTED, the server's default
        const auto rows = txn.exec_params(claim_sql, owner, impl_->clock_ms(), static_cast<std::int64_t>(ttl.count()));
        txn.commit();
        if (rows.empty())
            return std::optional<run_claim>();
        run_claim out;
        out.run_id = rows[0][0].as<std::string>();
        out.fence = rows[0][1].as<std::int64_t>();
        out.waited = std::chrono::milliseconds(rows[0][2].as<std::int64_t>());
        out.reclaimed = rows[0][3].as<bool>();
        return std::optional<run_claim>(std::move(out));
    });
}

result<bool> run_queue::requeue(const std::string& run_id)
{
    return impl_->on_claims("requeueing run " + run_id, [&](pqxx::connection& c) -> result<bool> {
        pqxx::work txn(c, "ep_requeue");
        const auto row = txn.exec_params1(requeue_sql, run_id, impl_->clock_ms());
        txn.commit();
        return row[0].as<std::int64_t>() == 1;
    });
}

result<bool> run_queue::wait_for_work(std::chrono::milliseconds timeout)
{
    auto& s = *impl_;
    try
    {
        if (!s.listen || !s.listen->is_open())
        {
            s.receiver.reset();
            s.listen.reset();
            s.listen = s.connect();
            const auto channel = pqxx::nontransaction(*s.listen).exec1(runnable_channel_sql)[0].as<std::string>();
            s.receiver = std::make_unique<wake_receiver>(*s.listen, channel, s.notified);
            s.listen->get_notifs();  // issues the LISTEN
            return true;  // runs may have become runnable while we were not listening: look
        }
        if (s.listen->get_notifs() == 0 && s.notified.load() == 0)
        {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
            s.listen->await_notification(static_cast<long>(us / 1000000), static_cast<long>(us % 1000000));
        }
        return s.notified.exchange(0) > 0;
    }
    catch (const std::exception& e)
    {
        s.receiver.reset();
        s.listen.reset();
        return s.fail(e, "waiting for runnable runs");
    }
}

}  // namespace ep::persistence
