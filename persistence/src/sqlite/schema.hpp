#pragma once
// The schema as an ordered list of migrations; PRAGMA user_version records how many ran.

#include <span>

namespace ep::persistence::sqlite {

struct migration
{
    int version;      // user_version after this migration
    const char* sql;  // DDL, applied in one transaction together with the user_version bump
};

/// Every migration, oldest first; versions are 1, 2, 3… without gaps.
std::span<const migration> migrations() noexcept;

/// The newest version (the last migration's).
int latest_schema_version() noexcept;

}  // namespace ep::persistence::sqlite
