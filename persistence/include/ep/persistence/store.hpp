#pragma once
// `store`: the run store's interface. SQLite (sqlite_store) is the embedded default;
// PostgreSQL implements the same interface (open either with open_store(uri)). Every backend
// passes the same conformance suite (tests/unit/persistence/conformance/).
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
    /// computed, `created`/`updated` are set to now; `totals` is ignored; `options`,
    /// `parent_run_id` and `parent_phase` are stored as given. If `owner` is set the run starts
    /// leased to it (heartbeat = now). Returns the stored record.
    /// Errors: invalid_argument (empty workflow, or an id that already exists), plus I/O errors.
    virtual result<run_record> create_run(run_record run) = 0;

    /// The run with its totals. Errors: not_found.
    virtual result<run_record> get_run(const std::string& run_id) = 0;

    /// The runs `filter` selects, newest first (by creation time; runs created in the same
    /// millisecond in creation order), with totals.
    virtual result<std::vector<run_record>> list_runs(const run_filter& filter) = 0;
    /// Up to `limit` runs, newest first: list_runs({.limit = limit}).
    result<std::vector<run_record>> list_runs(std::size_t limit)
    {
        run_filter f;
        f.limit = limit;
        return list_runs(f);
    }

    /// Sets the status (and `error`; pass "" to clear it). Entering completed/failed/interrupted
    /// sets `finished`; entering pending/running/waiting clears it. Entering `waiting` also frees
    /// the lease (owner and heartbeat cleared, in the same write): a run waiting at a gate has no
    /// owner, and its former owner's renew_lease then fails with lease_held. Errors: not_found.
    virtual result<void> set_run_status(const std::string& run_id, run_status status,
                                        const std::string& error = {}) = 0;

    /// Records the mix a resume switched to (`--resume ID --config X`). Errors: not_found.
    virtual result<void> set_run_mix(const std::string& run_id, const std::string& mix) = 0;

    /// Replaces the run's `options` (the runtime's settings for it). Errors: not_found.
    virtual result<void> set_run_options(const std::string& run_id, const nlohmann::json& options) = 0;

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

    /// Marks a phase instance `running` (started = now, error cleared, outputs kept empty). See
    /// phase_record for the (phase, iteration, item) key. Re-beginning a running/waiting/failed/
    /// cancelled/skipped instance is allowed (a retry or a resume).
    /// Errors: not_found (unknown run); invalid_state if the instance is already completed — a
    /// completed instance must never be sent to a provider again; invalid_argument for an
    /// iteration below 1 or a negative item.
    virtual result<void> begin_phase(const std::string& run_id, const std::string& phase_id,
                                     int iteration = 1, std::optional<int> item = std::nullopt) = 0;

    /// Records one provider attempt (replaces the same run/phase/iteration/item/attempt number).
    /// Errors: not_found (unknown run).
    virtual result<void> record_attempt(const attempt_record& attempt) = 0;

    /// THE checkpoint: writes the phase instance's final record (any status), records `attempts`
    /// (as record_attempt does) and appends `events` for the same run in ONE transaction, so
    /// either all of it is visible or none. Returns the seq of the last appended event (0 if
    /// `events` is empty). Once this returns, the instance survives kill -9 (durability `full`:
    /// also power loss). Errors: not_found (unknown run); invalid_state if the instance is
    /// already committed as completed (its output is final); invalid_argument (empty ids, an
    /// iteration below 1, a negative item); disk_full/io_error (rolled back).
    virtual result<std::int64_t> commit_phase(const phase_record& phase,
                                              const std::vector<event_record>& events,
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

    /// Every phase instance of the run (all iterations and items), ordered by start time (a
    /// skipped instance that never started: by when it was skipped), then phase id, iteration
    /// and item (the phase's own row before its items). An unknown run yields not_found.
    virtual result<std::vector<phase_record>> get_phases(const std::string& run_id) = 0;

    /// One phase instance. Errors: not_found (run or instance).
    virtual result<phase_record> get_phase(const std::string& run_id, const std::string& phase_id,
                                           int iteration = 1, std::optional<int> item = std::nullopt) = 0;

    /// For a fork: copies every completed instance (all iterations and items) of the phases
    /// `phase_ids` of run `from_run`, with their attempts, into run `to_run`, in one
    /// transaction. Instances that are not completed in `from_run` are not copied (the fork runs
    /// them). The events of `to_run` are the caller's business. Errors: not_found (either run);
    /// invalid_argument (from_run == to_run); invalid_state if `to_run` already has a completed
    /// instance with the same key (nothing is copied then).
    virtual result<void> copy_phases(const std::string& from_run, const std::string& to_run,
                                     const std::vector<std::string>& phase_ids) = 0;

    /// Attempts of the run (or of one phase: all its instances), ordered by start time, then
    /// phase id, iteration, item and attempt number.
    virtual result<std::vector<attempt_record>>
    get_attempts(const std::string& run_id, const std::optional<std::string>& phase_id = std::nullopt) = 0;

    /// Events of the run with seq > `after_seq`, ascending, at most `limit`.
    virtual result<std::vector<event_record>>
    get_events(const std::string& run_id, std::int64_t after_seq = 0, std::size_t limit = SIZE_MAX) = 0;

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
