#pragma once
// Pieces of the SQLite writes that several calls share (the checkpoint, append_events,
// record_attempt, copy_phases). Each runs inside the caller's lock and transaction.

#include "sqlite/store_impl.hpp"

#include <string>
#include <vector>

namespace ep::persistence::sqlite {

/// A foreign-key failure on insert means the run does not exist: report that, not "constraint".
store_error write_error(sqlite_store::impl& s, int rc, const std::string& run_id, const std::string& what);

/// Whether the run exists.
result<bool> run_exists(sqlite_store::impl& s, const std::string& run_id);

/// not_found naming the run unless it exists.
result<void> require_run(sqlite_store::impl& s, const std::string& run_id, const std::string& what);

/// Appends `events` to the run's log (seq continues from the last); returns the last seq (0
/// for none).
result<std::int64_t> insert_events(sqlite_store::impl& s, const std::string& run_id,
                                   const std::vector<event_record>& events, timestamp now,
                                   const std::string& what);

/// Inserts or replaces one attempts row.
result<void> insert_attempt(sqlite_store::impl& s, const attempt_record& a);

}  // namespace ep::persistence::sqlite
