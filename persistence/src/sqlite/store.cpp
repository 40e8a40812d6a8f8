// sqlite_store: opening, pragmas, migrations, statement cache and integrity check.
// The record operations live in sqlite_store_runs.cpp and sqlite_store_phases.cpp.

#include "invariants.hpp"
#include "sqlite/schema.hpp"
#include "sqlite/store_impl.hpp"

#include <array>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

namespace ep::persistence {

namespace fs = std::filesystem;

// ---- impl ----------------------------------------------------------------------------------

sqlite_store::impl::~impl()
{
    checkpointer.reset();  // before the writer's connection goes
    for (auto& [sql, stmt] : statements)
        sqlite3_finalize(stmt);
    // sqlite3_close_v2 defers the close if anything is still open; nothing should be.
    if (db != nullptr)
        sqlite3_close_v2(db);
}

store_error sqlite_store::impl::fail(int rc, const std::string& what) const
{
    std::string msg = path.string() + ": " + what;
    // sqlite3_errmsg describes the last error on this connection; fall back to the generic text.
    const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (detail != nullptr && *detail != '\0')
        msg += ": " + std::string(detail);
    store_error e(make_error_code(classify_sqlite_error(rc)), std::move(msg), make_sqlite_error_code(rc));
    if (batch_open && db != nullptr && sqlite3_get_autocommit(db) != 0 && !batch_rollback_cause)
        batch_rollback_cause = e;  // this failure ended the whole batch
    return e;
}

store_error sqlite_store::impl::fail(persistence_errc code, const std::string& what) const
{
    return store_error(make_error_code(code), path.string() + ": " + what);
}

result<sqlite::statement> sqlite_store::impl::prepare(const char* sql)
{
    // SQLITE_FULL/IOERR inside a group commit can roll the whole batch back; the calls after it
    // must fail too rather than quietly commit on their own.
    if (batch_open && sqlite3_get_autocommit(db) != 0)
        return batch_rollback_cause ? *batch_rollback_cause
                                    : fail(persistence_errc::io_error,
                                           "the group commit this call belonged to was rolled back");
    auto it = statements.find(sql);
    if (it == statements.end())
    {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK)
            return fail(rc, "preparing a statement");
        it = statements.emplace(sql, stmt).first;
    }
    return sqlite::statement(it->second);
}

result<void> sqlite_store::impl::exec(const char* sql, const char* what)
{
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return fail(rc, what);
    return {};
}

result<void> sqlite_store::impl::exec_cached(const char* sql, const char* what)
{
    auto st = prepare(sql);
    if (!st)
        return std::move(st).error();
    if (const int rc = st->step(); rc != SQLITE_DONE)
        return fail(rc, what);
    return {};
}

namespace sqlite {

write_transaction::~write_transaction()
{
    // After some errors (SQLITE_FULL, IOERR, NOMEM) SQLite has already rolled back; a second
    // ROLLBACK would fail, so only roll back what is still open.
    if (!open_ || sqlite3_get_autocommit(s_.db) != 0)
        return;
    if (nested_)
    {
        sqlite3_exec(s_.db, "ROLLBACK TO ep_call", nullptr, nullptr, nullptr);
        sqlite3_exec(s_.db, "RELEASE ep_call", nullptr, nullptr, nullptr);
    }
    else
        sqlite3_exec(s_.db, "ROLLBACK", nullptr, nullptr, nullptr);
}

result<void> write_transaction::begin(const char* what)
{
    if (s_.batch_open && sqlite3_get_autocommit(s_.db) != 0)
        return s_.batch_rollback_cause ? *s_.batch_rollback_cause
                                       : s_.fail(persistence_errc::io_error,
                                                 std::string(what) + ": the group commit was rolled back");
    nested_ = s_.batch_open;
    auto r = s_.exec_cached(nested_ ? "SAVEPOINT ep_call" : "BEGIN IMMEDIATE", what);
    open_ = r.has_value();
    return r;
}

result<void> write_transaction::commit(const char* what)
{
    auto r = s_.exec_cached(nested_ ? "RELEASE ep_call" : "COMMIT", what);
    if (r)
        open_ = false;
    return r;
}

}  // namespace sqlite

// ---- open ----------------------------------------------------------------------------------

namespace {

constexpr std::array<char, 16> sqlite_magic{'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                            'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

// True if the file has content that is not a SQLite database. Checked before SQLite opens it so
// that a stray file given as --db is never touched (not even by a -wal/-shm side file).
bool has_foreign_content(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;  // unreadable: let SQLite report why
    std::array<char, 16> head{};
    in.read(head.data(), head.size());
    const auto got = in.gcount();
    if (got == 0)
        return false;  // an empty file is a valid empty database
    return got < static_cast<std::streamsize>(head.size()) || head != sqlite_magic;
}

bool is_permission_error(const std::error_code& ec)
{
    return ec == std::errc::permission_denied || ec == std::errc::read_only_file_system ||
           ec == std::errc::operation_not_permitted;
}

// A path as the file part of an SQLite URI: '%', '?' and '#' would end or alter it.
std::string uri_escape_path(const std::string& path)
{
    std::string out;
    for (char c : path)
    {
        if (c == '%' || c == '?' || c == '#')
        {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += '%';
            out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
            out += hex[static_cast<unsigned char>(c) & 0xF];
        }
        else
            out += c;
    }
    return out;
}

// Opens (or reopens) the connection of `s`. `immutable`: the read-only fallback that needs no
// -shm file and takes no locks (see sqlite_store::open).
result<void> connect(sqlite_store::impl& s, bool read_only, bool exists, bool immutable)
{
    for (auto& [sql, stmt] : s.statements)
        sqlite3_finalize(stmt);
    s.statements.clear();
    if (s.db != nullptr)
    {
        sqlite3_close_v2(s.db);
        s.db = nullptr;
    }
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;  // our own mutex serialises calls
    std::string name = s.path.string();
    if (immutable)
    {
        flags |= SQLITE_OPEN_URI;
        name = "file:" + uri_escape_path(name) + "?immutable=1";
    }
    const int orc = sqlite3_open_v2(name.c_str(), &s.db, flags, nullptr);
    if (orc != SQLITE_OK)
    {
        auto err = s.fail(orc, "cannot open the database");
        if ((orc & 0xff) == SQLITE_CANTOPEN && exists)
            err.code = make_error_code(persistence_errc::read_only);
        return err;
    }
    sqlite3_extended_result_codes(s.db, 1);
    sqlite3_busy_timeout(s.db, static_cast<int>(s.options.busy_timeout.count()));
    return {};
}

result<int> read_schema_version(sqlite_store::impl& s)
{
    auto st = s.prepare("PRAGMA user_version");
    if (!st)
        return std::move(st).error();
    const int rc = st->step();
    if (rc != SQLITE_ROW)
        return s.fail(rc, "reading the schema version");
    return static_cast<int>(st->int64(0));
}

// The writer's journal, durability and size cap.
result<void> configure_writer(sqlite_store::impl& s)
{
    {
        auto st = s.prepare("PRAGMA journal_mode = WAL");
        if (!st)
            return std::move(st).error();
        const int rc = st->step();
        if (rc != SQLITE_ROW)
        {
            auto err = s.fail(rc, "enabling the WAL journal");
            if ((rc & 0xff) == SQLITE_CANTOPEN)  // the directory refuses the -wal file
                err.code = make_error_code(persistence_errc::read_only);
            return err;
        }
        if (st->text(0) != "wal")
            return s.fail(persistence_errc::io_error, "the file system does not support the WAL journal");
    }
    const char* sync_sql =
        s.options.sync == durability::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    if (auto r = s.exec(sync_sql, "setting synchronous"); !r)
        return r;
    if (s.options.max_page_count)
    {
        const std::string sql = "PRAGMA max_page_count = " + std::to_string(*s.options.max_page_count);
        if (auto r = s.exec(sql.c_str(), "setting max_page_count"); !r)
            return r;
    }
    return {};
}

// Applies the migrations after `version`, each in its own transaction with its user_version
// bump, re-checking the version under the write lock in case another process migrated meanwhile.
result<void> migrate(sqlite_store::impl& s, int version)
{
    for (const auto& m : sqlite::migrations())
    {
        if (m.version <= version)
            continue;
        sqlite::write_transaction txn(s);
        if (auto r = txn.begin("starting a migration"); !r)
            return r;
        auto current = read_schema_version(s);
        if (!current)
            return std::move(current).error();
        if (*current >= m.version)
        {
            version = *current;
            continue;  // txn rolls back (nothing written)
        }
        if (auto r = s.exec(m.sql, ("migrating the schema to version " + std::to_string(m.version)).c_str());
            !r)
            return r;
        const std::string bump = "PRAGMA user_version = " + std::to_string(m.version);
        if (auto r = s.exec(bump.c_str(), "recording the schema version"); !r)
            return r;
        if (auto r = txn.commit("committing a migration"); !r)
            return r;
        version = m.version;
    }
    return {};
}

// A read-only connection failed because it could not create the WAL index (-shm file).
bool cannot_share_wal_index(const store_error& e)
{
    const int rc = e.cause.value();
    return e.cause.category() == sqlite_category() &&
           ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN);
}

}  // namespace

int sqlite_store::schema_version() noexcept
{
    return sqlite::latest_schema_version();
}

sqlite_store::sqlite_store(std::unique_ptr<impl> i) noexcept : impl_(std::move(i)) {}
sqlite_store::~sqlite_store() = default;

const fs::path& sqlite_store::path() const noexcept
{
    return impl_->path;
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const fs::path& path, sqlite_options options)
{
    // SQLite counts every allocation under one process-wide mutex unless told not to; the
    // writer and the checkpointer thread would contend for it on every malloc. Only possible
    // before SQLite initialises, so once, and harmless if someone else initialised it first.
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
    auto s = std::make_unique<impl>(path, std::move(options));
    const bool ro = s->options.read_only;

    std::error_code fec;
    const bool exists = fs::exists(path, fec);
    if (!exists)
    {
        if (ro)
            return s->fail(persistence_errc::not_found, "no database at this path");
        if (path.has_parent_path())
        {
            fs::create_directories(path.parent_path(), fec);
            if (fec)
                return store_error(make_error_code(is_permission_error(fec) ? persistence_errc::read_only
                                                                            : persistence_errc::io_error),
                                   path.string() + ": cannot create the directory " +
                                       path.parent_path().string() + ": " + fec.message(),
                                   boost::system::error_code(fec.value(), boost::system::system_category()));
        }
    }
    else if (has_foreign_content(path))
    {
        return s->fail(persistence_errc::corrupt,
                       "not an EP run database (no SQLite header); the file was left untouched");
    }

    if (auto r = connect(*s, ro, exists, false); !r)
        return std::move(r).error();

    // Read the version before anything writes: a newer schema must stay byte-for-byte intact.
    auto read_version = read_schema_version(*s);
    if (!read_version && ro && cannot_share_wal_index(read_version.error()))
    {
        // A WAL database whose -shm file is gone (closed cleanly) and cannot be created (the
        // directory is not ours to write): no process has it open, since every connection keeps
        // the -shm while open. Read it as an immutable file then: no locks, no -shm.
        if (auto r = connect(*s, ro, exists, true); !r)
            return std::move(r).error();
        read_version = read_schema_version(*s);
    }
    if (!read_version)
        return std::move(read_version).error();
    int version = *read_version;
    if (version > schema_version())
        return s->fail(persistence_errc::schema_too_new,
                       "schema version " + std::to_string(version) +
                           " was written by a newer EP (this build supports up to " +
                           std::to_string(schema_version()) +
                           "); upgrade EP or use another --db. The file was not modified");

    if (ro)
    {
        if (version < schema_version())
            return s->fail(persistence_errc::invalid_state,
                           "schema version " + std::to_string(version) + " is older than this build's (" +
                               std::to_string(schema_version()) + ") and cannot be migrated read-only");
        if (auto r = s->exec("PRAGMA query_only = ON", "setting query_only"); !r)
            return std::move(r).error();
        return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(s)));
    }

    if (sqlite3_db_readonly(s->db, "main") == 1)
        return s->fail(persistence_errc::read_only,
                       "the file is not writable (open it read-only to inspect runs)");

    if (auto r = configure_writer(*s); !r)
        return std::move(r).error();
    if (auto r = migrate(*s, version); !r)
        return std::move(r).error();
    // After the migrations: a migration that rebuilds a parent table must not cascade.
    if (auto r = s->exec("PRAGMA foreign_keys = ON", "enabling foreign keys"); !r)
        return std::move(r).error();
    // Last, so migrations keep SQLite's own checkpoints. Without a second connection they stay.
    s->checkpointer = sqlite::wal_checkpointer::start(path, s->db, s->options.busy_timeout);
    return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(s)));
}

// ---- maintenance ---------------------------------------------------------------------------

result<void> sqlite_store::integrity_check()
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare("PRAGMA integrity_check(20)");
    if (!st)
        return std::move(st).error();
    std::string problems;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
    {
        const auto line = st->text(0);
        if (line == "ok")
            continue;
        problems += problems.empty() ? "" : "; ";
        problems += line;
    }
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "running the integrity check");
    if (!problems.empty())
        return impl_->fail(persistence_errc::corrupt, "integrity check failed: " + problems);
    // Sound pages and indexes; now the store's own invariants.
    for (const auto& q : detail::invariant_queries)
    {
        auto inv = impl_->prepare(q.sql);
        if (!inv)
            return std::move(inv).error();
        while ((rc = inv->step()) == SQLITE_ROW)
        {
            problems += problems.empty() ? "" : "; ";
            problems += detail::run_label(inv->text(0)) + ": " + inv->text(1);
        }
        if (rc != SQLITE_DONE)
            return impl_->fail(rc, "running the integrity check");
    }
    if (!problems.empty())
        return impl_->fail(persistence_errc::corrupt, "integrity check failed: " + problems);
    return {};
}

}  // namespace ep::persistence

namespace ep::persistence {

result<bool> sqlite_store::begin_batch()
{
    std::lock_guard lock(impl_->mutex);
    if (impl_->batch_open)
        return impl_->fail(persistence_errc::invalid_state, "begin_batch: a batch is already open");
    if (auto r = impl_->exec_cached("BEGIN IMMEDIATE", "opening a group commit"); !r)
        return std::move(r).error();
    impl_->batch_open = true;
    impl_->batch_rollback_cause.reset();
    return true;
}

result<void> sqlite_store::end_batch()
{
    std::lock_guard lock(impl_->mutex);
    if (!impl_->batch_open)
        return impl_->fail(persistence_errc::invalid_state, "end_batch: no batch is open");
    impl_->batch_open = false;
    // After SQLITE_FULL/IOERR SQLite may already have rolled the whole batch back: report the
    // cause (disk full, …) to every call of the batch, not "no transaction is active".
    if (sqlite3_get_autocommit(impl_->db) != 0)
    {
        auto cause = std::exchange(impl_->batch_rollback_cause, std::nullopt);
        return cause ? std::move(*cause)
                     : impl_->fail(persistence_errc::io_error, "the group commit was rolled back");
    }
    auto r = impl_->exec_cached("COMMIT", "committing a group commit");
    if (!r && sqlite3_get_autocommit(impl_->db) == 0)
        sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    return r;
}

}  // namespace ep::persistence
