#pragma once
// Identifiers and fingerprints the store and its callers share.

#include <ep/persistence/records.hpp>

#include <string>
#include <string_view>

namespace ep::persistence {

/// A new run id "YYYYMMDDTHHMMSSZ-xxxxxxxx" (UTC time + 32 random bits, hex). Ids sort by creation
/// second; ties within one second are ordered by the store's creation time. Thread-safe.
std::string new_run_id(timestamp at = now_ms());

/// Lower-case hex SHA-256 of `text` (the workflow definition's fingerprint).
std::string definition_hash(std::string_view text);

/// "hostname:pid" of this process: the lease owner string.
std::string default_owner();

/// True if `owner` ("host:pid") names a process on THIS host that no longer exists.
/// False when it is on another host, unparsable, or alive (or we cannot tell).
bool owner_is_dead_local_process(std::string_view owner);

}  // namespace ep::persistence
