#pragma once
// open_store: the one way front ends open the run store, from a URI that picks the backend.
//
//   PATH                      a SQLite file (e.g. ./.ep/runs.db); relative to the working directory
//   sqlite:PATH               the same, explicitly (for a path that contains a ':' before any '/')
//   sqlite://PATH             the same; sqlite:///abs/runs.db is /abs/runs.db
//   postgres://…              a PostgreSQL database: any libpq connection URI, e.g.
//   postgresql://…              postgresql://ep:secret@db.example:5432/ep?sslmode=require
//                               postgresql:///ep?host=/run/postgresql (a Unix socket)
//
// The URI may carry a password (postgres). It is never stored, and every message that names
// the URI shows it through redact_store_uri().

#include <ep/persistence/store.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ep::persistence {

/// How hard a commit tries to survive a crash. SQLite: PRAGMA synchronous. PostgreSQL:
/// synchronous_commit (the server's fsync settings apply on top).
enum class durability
{
    normal,  // SQLite: a commit survives a process crash (kill -9), not power loss.
             // PostgreSQL: the server's own synchronous_commit setting.
    full,    // every commit is flushed to disk before it returns (SQLite FULL; PostgreSQL on)
};

/// Options every backend understands.
struct store_options
{
    durability sync = durability::normal;
    /// Open for inspection only (`--list`, `--show`): nothing is created or migrated and any
    /// write fails with read_only. A store that does not exist yet is not_found.
    bool read_only = false;
    /// How long a write waits for another writer's lock before failing with `busy`
    /// (SQLite busy_timeout; PostgreSQL lock_timeout).
    std::chrono::milliseconds busy_timeout{5000};
    /// The clock for every stored time; tests inject a fake one to age heartbeats. Unset:
    /// the system clock (PostgreSQL: lease heartbeats then use the database server's clock,
    /// so that machines with skewed clocks judge a lease's age alike).
    std::function<timestamp()> clock;
};

/// Which backend a store URI names, and the part the backend is given.
struct store_location
{
    enum class backend_kind
    {
        sqlite,
        postgres,
    };
    backend_kind backend = backend_kind::sqlite;
    std::string target;  // sqlite: the file path; postgres: the libpq URI as given
};

/// Parses a store URI (see the top of this header) without opening anything.
/// Errors: invalid_argument for an empty URI, an empty SQLite path, an unknown scheme or a
/// libpq keyword=value string; the message names the accepted forms (URI redacted).
result<store_location> parse_store_uri(std::string_view uri);

/// Opens (creating and migrating it unless options.read_only) the store `uri` names.
/// Errors: those of parse_store_uri, and of the backend's open (sqlite_store::open; for
/// PostgreSQL: io_error when the server cannot be reached or refuses the login, not_found for
/// a read-only open of a database without EP's tables, schema_too_new, …). Every message
/// names the URI in its redacted form.
result<std::unique_ptr<store>> open_store(std::string_view uri, const store_options& options = {});

/// `uri` with any password replaced by "***": the one in a URI's user-info
/// (postgres://user:***@host/db) and any `password=` parameter (URI query or libpq
/// keyword=value string). Anything else is returned unchanged. Never fails.
std::string redact_store_uri(std::string_view uri);

}  // namespace ep::persistence
