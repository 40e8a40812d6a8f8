#pragma once
// PostgreSQL's schema as an ordered list of forward-only migrations; the table
// ep_schema_version records how many ran. Applied under an advisory lock, so that processes
// opening a new database at once migrate it exactly once.

#include <span>

namespace ep::persistence::postgres {

struct migration
{
    int version;      // the schema version after this migration
    const char* sql;  // DDL, applied in one transaction together with the version bump
};

/// Every migration, oldest first; versions are 1, 2, 3… without gaps.
std::span<const migration> migrations() noexcept;

/// The newest version (the last migration's).
int latest_schema_version() noexcept;

/// The advisory lock key migrations hold ("EP_store" as a big-endian integer).
inline constexpr long long migration_lock_key = 4994596936233218661LL;

}  // namespace ep::persistence::postgres
