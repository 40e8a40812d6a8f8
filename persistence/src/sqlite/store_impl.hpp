#pragma once
// The private state of sqlite_store, shared by the files that implement its methods.

#include "record_format.hpp"
#include "sqlite/statement.hpp"
#include "sqlite/wal_checkpointer.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ep::persistence {

struct sqlite_store::impl
{
    impl(std::filesystem::path p, sqlite_options o) : path(std::move(p)), options(std::move(o)) {}
    ~impl();
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    std::filesystem::path path;
    sqlite_options options;
    sqlite3* db = nullptr;
    std::unique_ptr<sqlite::wal_checkpointer> checkpointer;  // writable stores; stopped before db closes
    std::mutex mutex;         // serialises every public call (one connection, one user at a time)
    bool batch_open = false;  // between begin_batch and end_batch: writes nest as savepoints
    // The error with which SQLite rolled an open batch back (SQLITE_FULL, IOERR, …): what every
    // later call of the batch, and end_batch, report instead of "no transaction is active".
    mutable std::optional<store_error> batch_rollback_cause;
    // Prepared once, reused for the connection's lifetime. Keyed by the SQL literal's address:
    // every call site passes the same static string, so hashing the text is unnecessary.
    std::unordered_map<const char*, sqlite3_stmt*> statements;

    timestamp now() const { return options.clock ? options.clock() : now_ms(); }

    /// A store_error for SQLite result `rc`: "<path>: <what>: <sqlite's message>".
    store_error fail(int rc, const std::string& what) const;
    /// A store_error for a domain failure (no SQLite cause): "<path>: <what>".
    store_error fail(persistence_errc code, const std::string& what) const;

    /// The cached statement for `sql` (a string literal), prepared on first use.
    result<sqlite::statement> prepare(const char* sql);
    /// Runs SQL text with no parameters and no result rows (pragmas, DDL).
    result<void> exec(const char* sql, const char* what);
    /// The same for a statement run on every write (BEGIN, COMMIT, SAVEPOINT, RELEASE): cached
    /// like prepare(), so it is parsed once rather than at every checkpoint.
    result<void> exec_cached(const char* sql, const char* what);
};

namespace sqlite {

/// BEGIN IMMEDIATE … COMMIT (inside a batch: SAVEPOINT … RELEASE, so a failed call undoes only
/// itself); rolls back on scope exit unless committed. IMMEDIATE takes the
/// write lock up front, so a busy database fails at BEGIN (after busy_timeout) rather than
/// half-way through, and two writers never deadlock upgrading read locks.
class write_transaction
{
public:
    explicit write_transaction(sqlite_store::impl& s) noexcept : s_(s) {}
    ~write_transaction();
    write_transaction(const write_transaction&) = delete;
    write_transaction& operator=(const write_transaction&) = delete;

    result<void> begin(const char* what);
    result<void> commit(const char* what);

private:
    sqlite_store::impl& s_;
    bool open_ = false;
    bool nested_ = false;  // a savepoint inside a batch rather than a transaction of its own
};

}  // namespace sqlite

}  // namespace ep::persistence
