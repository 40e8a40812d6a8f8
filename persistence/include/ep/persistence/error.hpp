#pragma once
// persistence_errc: what went wrong in the run store, as an error_code; `store_error` carries it
// with the underlying SQLite/PostgreSQL/OS cause and our own diagnostics text (the file path or
// the redacted database URI + what failed).

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace ep::persistence {

enum class persistence_errc
{
    not_found = 1,     // no such run / phase / database file (read-only open)
    schema_too_new,    // the database was written by a newer EP; we refuse to touch it
    corrupt,           // not a database, or a malformed one (integrity_check failed)
    read_only,         // the file, its directory or the connection is read-only
    disk_full,         // SQLITE_FULL (or the configured max_page_count); the transaction was rolled back
    busy,              // another connection held the lock longer than the busy timeout
    lease_held,        // another live owner holds the run's lease
    invalid_state,     // the request contradicts stored state (e.g. re-running a completed phase)
    invalid_argument,  // a record is missing a required field
    io_error,          // any other SQLite or file-system failure (see store_error::cause)
};

/// The category of persistence_errc ("ep.persistence").
const boost::system::error_category& persistence_category() noexcept;

/// The category of raw SQLite result codes (extended codes included); message() is sqlite3_errstr.
const boost::system::error_category& sqlite_category() noexcept;

inline boost::system::error_code make_error_code(persistence_errc e) noexcept
{
    return {static_cast<int>(e), persistence_category()};
}

/// A raw SQLite result code as an error_code in sqlite_category().
boost::system::error_code make_sqlite_error_code(int sqlite_result_code) noexcept;

/// Maps a SQLite result code to the persistence_errc callers act on (FULL → disk_full, …).
persistence_errc classify_sqlite_error(int sqlite_result_code) noexcept;

/// The category of PostgreSQL SQLSTATE codes: value() is the five-character code read as a
/// base-36 number; message() is "SQLSTATE 23505".
const boost::system::error_category& postgres_category() noexcept;

/// A SQLSTATE ("23505") as an error_code in postgres_category().
boost::system::error_code make_postgres_error_code(std::string_view sqlstate) noexcept;

/// Maps a SQLSTATE to the persistence_errc callers act on (53100 → disk_full, 25006 →
/// read_only, 55P03/40001/40P01 → busy, XX001 → corrupt, …).
persistence_errc classify_postgres_error(std::string_view sqlstate) noexcept;

/// A failed store operation.
///  - `code`: a persistence_errc; compare with `err.code == persistence_errc::lease_held`.
///  - `cause`: the underlying SQLite (sqlite_category), PostgreSQL (postgres_category) or OS
///    (system_category) code, if any.
///  - `message`: our diagnostics: the database path or redacted URI, the operation and ids
///    involved, and the database's own message. It never contains stored payloads (outputs,
///    inputs) nor a password, so never a credential.
struct store_error
{
    store_error() = default;
    store_error(boost::system::error_code c, std::string msg, boost::system::error_code why = {})
        : code(c), cause(why), message(std::move(msg))
    {}

    boost::system::error_code code;
    boost::system::error_code cause;
    std::string message;

    /// "message (code text)"; one line, for logs and CLI output.
    std::string to_string() const;
};

/// `result<T>` of every store operation: a T, or a store_error.
template <class T>
using result = boost::system::result<T, store_error>;

/// Lets `result<T>::value()` throw a boost::system::system_error carrying code and message.
[[noreturn]] void throw_exception_from_error(const store_error& e, const boost::source_location& loc);

}  // namespace ep::persistence

template <>
struct boost::system::is_error_code_enum<ep::persistence::persistence_errc> : std::true_type
{};
