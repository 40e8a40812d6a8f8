// The SQLite side of the store's errors: raw result codes as error_codes, and their mapping to
// the persistence_errc callers act on.

#include <ep/persistence/error.hpp>

#include <sqlite3.h>

namespace ep::persistence {

namespace {

class sqlite_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "sqlite"; }
    std::string message(int ev) const override { return sqlite3_errstr(ev); }
};

}  // namespace

const boost::system::error_category& sqlite_category() noexcept
{
    static const sqlite_category_impl instance;
    return instance;
}

boost::system::error_code make_sqlite_error_code(int sqlite_result_code) noexcept
{
    return {sqlite_result_code, sqlite_category()};
}

persistence_errc classify_sqlite_error(int rc) noexcept
{
    // Primary code = low byte of an extended code.
    switch (rc & 0xff)
    {
    case SQLITE_FULL: return persistence_errc::disk_full;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return persistence_errc::corrupt;
    case SQLITE_READONLY:
    case SQLITE_PERM: return persistence_errc::read_only;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return persistence_errc::busy;
    case SQLITE_NOTFOUND: return persistence_errc::not_found;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return persistence_errc::invalid_argument;
    default: return persistence_errc::io_error;
    }
}

}  // namespace ep::persistence
