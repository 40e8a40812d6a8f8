#pragma once
// The private state of postgres_store, shared by the files that implement its methods: the
// connection, the open group commit, error mapping and the transaction helpers.

#include "postgres/store.hpp"
#include "record_format.hpp"

#include <pqxx/pqxx>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

namespace ep::persistence {

struct postgres_store::impl
{
    impl(std::string u, store_options o);

    std::string uri;    // as given: may hold a password; only libpq sees it
    std::string label;  // redact_store_uri(uri): what messages show
    store_options options;
    std::unique_ptr<pqxx::connection> conn;  // null until connected, and after a lost connection
    std::mutex mutex;                   // serialises every public call (one connection, one user at a time)
    std::unique_ptr<pqxx::work> batch;  // the open group commit, if any
    std::optional<store_error> batch_failure;  // why the open group commit can no longer commit

    /// Between begin_batch and end_batch (even once the batch's transaction is gone).
    bool in_group_commit() const { return batch || batch_failure; }

    /// The injected clock's time in ms, or nullopt: then SQL uses the server's clock for leases.
    std::optional<std::int64_t> clock_ms() const;
    /// The time for stored times other than heartbeats (injected clock, or this machine's).
    timestamp now() const { return options.clock ? options.clock() : now_ms(); }

    /// A store_error "<redacted uri>: <what>".
    store_error fail(persistence_errc code, const std::string& what) const;
    /// The store_error for an exception thrown by libpqxx while doing `what` (SQLSTATE mapped,
    /// cause kept); forgets a connection that is gone so that the next call reconnects.
    store_error fail(const std::exception& e, const std::string& what);

    /// Connects if there is no live connection: session settings and prepared statements.
    result<void> ensure_connected();

    /// Runs body(txn) -> result<T> in a transaction of its own, or in a savepoint of the open
    /// group commit; commits if it succeeds, rolls back (only itself) otherwise.
    template <class F>
    auto write(const std::string& what, F&& body) -> std::invoke_result_t<F, pqxx::transaction_base&>;

    /// The same for a body whose writes are one statement (atomic by itself): autocommit, so no
    /// BEGIN/COMMIT round trips; inside a group commit a savepoint as for write().
    template <class F>
    auto write_single(const std::string& what, F&& body) -> std::invoke_result_t<F, pqxx::transaction_base&>;

    /// Runs body(txn) -> result<T> for reading: autocommit statements, or inside the open group
    /// commit (a savepoint, so that a failed read cannot spoil it).
    template <class F>
    auto read(const std::string& what, F&& body) -> std::invoke_result_t<F, pqxx::transaction_base&>;

private:
    template <class F>
    auto in_batch(const std::string& what, F&& body) -> std::invoke_result_t<F, pqxx::transaction_base&>;
};

template <class F>
auto postgres_store::impl::in_batch(const std::string& what, F&& body)
    -> std::invoke_result_t<F, pqxx::transaction_base&>
{
    if (batch_failure)
        return *batch_failure;
    try
    {
        pqxx::subtransaction call(*batch, "ep_call");
        auto r = body(static_cast<pqxx::transaction_base&>(call));
        if (r)
            call.commit();
        else
            call.abort();
        return r;
    }
    catch (const std::exception& e)
    {
        return fail(e, what);  // a lost connection also ends the batch (batch_failure)
    }
}

template <class F>
auto postgres_store::impl::write(const std::string& what, F&& body)
    -> std::invoke_result_t<F, pqxx::transaction_base&>
{
    if (in_group_commit())
        return in_batch(what, std::forward<F>(body));
    if (auto c = ensure_connected(); !c)
        return std::move(c).error();
    try
    {
        pqxx::work txn(*conn, "ep");
        auto r = body(static_cast<pqxx::transaction_base&>(txn));
        if (r)
            txn.commit();
        else
            txn.abort();
        return r;
    }
    catch (const std::exception& e)
    {
        return fail(e, what);
    }
}

template <class F>
auto postgres_store::impl::read(const std::string& what, F&& body)
    -> std::invoke_result_t<F, pqxx::transaction_base&>
{
    if (in_group_commit())
        return in_batch(what, std::forward<F>(body));
    if (auto c = ensure_connected(); !c)
        return std::move(c).error();
    try
    {
        pqxx::nontransaction txn(*conn, "ep_autocommit");
        return body(static_cast<pqxx::transaction_base&>(txn));
    }
    catch (const std::exception& e)
    {
        return fail(e, what);
    }
}

template <class F>
auto postgres_store::impl::write_single(const std::string& what, F&& body)
    -> std::invoke_result_t<F, pqxx::transaction_base&>
{
    return read(what, std::forward<F>(body));  // the same path: autocommit, or a savepoint in a batch
}

namespace postgres {

/// The SQL for "now" in ms: the injected clock's value ($n) or the server's clock.
#define EP_PG_NOW(param) "COALESCE(" param "::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"

/// Column readers for rows of libpqxx results.
inline std::string text_of(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}
inline std::optional<timestamp> opt_time(const pqxx::field& f)
{
    return f.is_null() ? std::nullopt
                       : std::optional<timestamp>(timestamp(std::chrono::milliseconds(f.as<std::int64_t>())));
}
inline timestamp time(const pqxx::field& f)
{
    return timestamp(std::chrono::milliseconds(f.as<std::int64_t>(0)));
}
inline std::optional<std::int64_t> opt_ms(const std::optional<timestamp>& t)
{
    return t ? std::optional<std::int64_t>(t->time_since_epoch().count()) : std::nullopt;
}
inline std::int64_t ms(timestamp t)
{
    return t.time_since_epoch().count();
}
/// NULL for an empty string (nullable text columns such as runs.owner).
inline std::optional<std::string> or_null(const std::string& s)
{
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

/// The not_found / invalid_state / lease-related checks need the run's existence: true if it is.
bool run_exists(pqxx::transaction_base& txn, const std::string& run_id);

}  // namespace postgres

}  // namespace ep::persistence
