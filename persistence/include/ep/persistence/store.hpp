#pragma once
// `store`: the run store's interface. SQLite (sqlite_store) is the embedded default; a server
// database can implement the same interface later without touching the engine.
//
// Contract shared by every method:
//  - Synchronous and blocking (disk I/O). Event-loop code uses async_store instead.
//  - Failures are returned, never thrown: result<T> holds a store_error whose `code` is a
//    persistence_errc (not_found, read_only, disk_full, busy, corrupt, io_error, …).
//  - Every write is atomic: on error nothing of that call is visible (the transaction is
//    rolled back).
//  - Callers MUST NOT pass secrets (API keys, Authorization headers) in any record.
//  - Thread safety: implementations document their own; sqlite_store serialises calls.

#include <ep/persistence/error.hpp>
#include <ep/persistence/records.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ep::persistence {

class store
{
public:
    virtual ~store() = default;

    // ---- runs ------------------------------------------------------------------------------

    /// Inserts a run. An empty `id` is generated (new_run_id), an empty `definition_hash` is
    /// computed, `created`/`updated` are set to now; `totals` is ignored. If `owner` is set the
    /// run starts leased to it (heartbeat = now). Returns the stored record.
    /// Errors: invalid_argument (empty workflow, or an id that already exists), plus I/O errors.
    virtual result<run_record> create_run(run_record run) = 0;

    /// The run with its totals. Errors: not_found.
    virtual result<run_record> get_run(const std::string& run_id) = 0;

    /// Up to `limit` runs, newest first (by creation time), with totals.
    virtual result<std::vector<run_record>> list_runs(std::size_t limit) = 0;

    /// Sets the status (and `error`; pass "" to clear it). Entering completed/failed/interrupted
    /// sets `finished`; entering pending/running clears it. Errors: not_found.
    virtual result<void> set_run_status(const std::string& run_id, run_status status,
                                        const std::string& error = {}) = 0;

    /// Records the mix a resume switched to (`--resume ID --config X`). Errors: not_found.
    virtual result<void> set_run_mix(const std::string& run_id, const std::string& mix) = 0;

    // ---- lease: one live owner per run -----------------------------------------------------

    /// Takes the run's lease for `owner` ("host:pid", see default_owner()) and sets its
    /// heartbeat to now. Succeeds if the lease is free, already ours, or stale: the holder's
    /// heartbeat is older than `ttl` (the holder crashed), or — sqlite_store option — the holder
    /// is a process on this host that no longer exists.
    /// Errors: not_found; lease_held (the message names the holder and its heartbeat age).
    virtual result<run_record> acquire_lease(const std::string& run_id, const std::string& owner,
                                             std::chrono::milliseconds ttl) = 0;

    /// Refreshes our heartbeat. Errors: not_found; lease_held if the lease is no longer ours
    /// (it was taken over after our heartbeat went stale: stop working on the run).
    virtual result<void> renew_lease(const std::string& run_id, const std::string& owner) = 0;

    /// Frees the lease if we hold it; freeing a free lease succeeds.
    /// Errors: not_found; lease_held if another owner holds it (left untouched).
    virtual result<void> release_lease(const std::string& run_id, const std::string& owner) = 0;

    // ---- phases, attempts, events ----------------------------------------------------------

    /// Marks a phase `running` (started = now, error cleared, outputs kept empty). Re-beginning a
    /// running/failed/cancelled/skipped phase is allowed (a retry or a resume).
    /// Errors: not_found (unknown run); invalid_state if the phase is already completed — a
    /// completed phase must never be sent to a provider again.
    virtual result<void> begin_phase(const std::string& run_id, const std::string& phase_id) = 0;

    /// Records one provider attempt (replaces the same run/phase/attempt number).
    /// Errors: not_found (unknown run).
    virtual result<void> record_attempt(const attempt_record& attempt) = 0;

    /// THE checkpoint: writes the phase's final record (any status), records `attempts` (as
    /// record_attempt does) and appends `events` for the same run in ONE transaction, so either
    /// all of it is visible or none. Returns the seq of the
    /// last appended event (0 if `events` is empty). Once this returns, the phase survives kill -9
    /// (durability `full`: also power loss). Errors: not_found (unknown run); invalid_state if the
    /// phase is already committed as completed (its output is final);
    /// disk_full/io_error (rolled back).
    virtual result<std::int64_t> commit_phase(const phase_record& phase, const std::vector<event_record>& events,
                                              const std::vector<attempt_record>& attempts) = 0;
    /// The checkpoint without attempts.
    result<std::int64_t> commit_phase(const phase_record& phase, const std::vector<event_record>& events)
    {
        return commit_phase(phase, events, {});
    }

    /// Appends events (seq assigned 1, 2, … per run) in one transaction; returns the last seq
    /// (0 if `events` is empty). Errors: not_found (unknown run).
    virtual result<std::int64_t> append_events(const std::string& run_id,
                                               const std::vector<event_record>& events) = 0;

    /// Every phase record of the run, in the order they began. An unknown run yields not_found.
    virtual result<std::vector<phase_record>> get_phases(const std::string& run_id) = 0;

    /// One phase. Errors: not_found (run or phase).
    virtual result<phase_record> get_phase(const std::string& run_id, const std::string& phase_id) = 0;

    /// Attempts of the run (or of one phase), ordered by start time then attempt number.
    virtual result<std::vector<attempt_record>> get_attempts(
        const std::string& run_id, const std::optional<std::string>& phase_id = std::nullopt) = 0;

    /// Events of the run with seq > `after_seq`, ascending, at most `limit`.
    virtual result<std::vector<event_record>> get_events(const std::string& run_id,
                                                         std::int64_t after_seq = 0,
                                                         std::size_t limit = SIZE_MAX) = 0;

    // ---- maintenance -----------------------------------------------------------------------

    /// Runs the backend's integrity check. Errors: corrupt (the message lists the first problems).
    virtual result<void> integrity_check() = 0;

    // ---- group commit (optional) --------------------------------------------------------------

    /// Opens an outer transaction that the following calls join: each write stays atomic on
    /// its own (a savepoint), but nothing is durable until end_batch() commits them all at once
    /// (one WAL append, one fsync under durability full). Returns false when the store does not
    /// batch; every write then commits by itself. Used by async_store's writer thread only.
    virtual result<bool> begin_batch() { return false; }
    /// Commits the batch. On error nothing of the batch is kept, whatever the calls returned.
    virtual result<void> end_batch() { return {}; }
};

}  // namespace ep::persistence
