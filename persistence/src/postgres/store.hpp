#pragma once
// postgres_store: the run store in a PostgreSQL database (libpqxx), for several machines
// sharing runs. Same schema concepts as SQLite (runs, phase instances, attempts, event log),
// its own forward-only migrations applied under an advisory lock. Opened through open_store().

#include <ep/persistence/open_store.hpp>
#include <ep/persistence/store.hpp>

#include <memory>
#include <string>

namespace ep::persistence {

/// Thread safety: every method locks an internal mutex (one connection, one call at a time), so
/// one postgres_store may be shared by threads. Any number of postgres_store objects, in any
/// number of processes and machines, may use one database.
///
/// Leases: judged by heartbeat age only (an owner on another machine cannot be probed). Unless
/// store_options::clock is set, heartbeats and their age come from the database server's clock,
/// so machines with skewed clocks agree on when a lease is stale.
///
/// Connection loss: the failing call returns io_error; the next call reconnects. A group commit
/// open at that moment fails as a whole (end_batch reports it).
class postgres_store final : public store
{
public:
    /// The schema version this build writes (the row in ep_schema_version after migration).
    static int schema_version() noexcept;

    /// Connects to `uri` (a libpq URI; it may carry a password, which no message shows) and,
    /// unless read_only, creates or migrates EP's tables in the connection's current schema.
    /// Errors, each naming the redacted URI: io_error (cannot connect, login refused, not a UTF8
    /// database), not_found (read_only and no EP tables; or no such database),
    /// invalid_state (read_only and an older schema), schema_too_new, busy (another process
    /// held the migration lock longer than busy_timeout).
    static result<std::unique_ptr<postgres_store>> open(const std::string& uri, const store_options& options);

    ~postgres_store() override;
    postgres_store(const postgres_store&) = delete;
    postgres_store& operator=(const postgres_store&) = delete;

    result<run_record> create_run(run_record run) override;
    result<run_record> get_run(const std::string& run_id) override;
    result<std::vector<run_record>> list_runs(const run_filter& filter) override;
    using store::list_runs;
    result<void> set_run_status(const std::string& run_id, run_status status,
                                const std::string& error = {}) override;
    result<void> set_run_mix(const std::string& run_id, const std::string& mix) override;
    result<void> set_run_options(const std::string& run_id, const nlohmann::json& options) override;

    result<run_record> acquire_lease(const std::string& run_id, const std::string& owner,
                                     std::chrono::milliseconds ttl) override;
    result<void> renew_lease(const std::string& run_id, const std::string& owner) override;
    result<void> release_lease(const std::string& run_id, const std::string& owner) override;

    result<void> begin_phase(const std::string& run_id, const std::string& phase_id, int iteration = 1,
                             std::optional<int> item = std::nullopt) override;
    result<void> record_attempt(const attempt_record& attempt) override;
    result<std::int64_t> commit_phase(const phase_record& phase, const std::vector<event_record>& events,
                                      const std::vector<attempt_record>& attempts) override;
    using store::commit_phase;
    result<std::int64_t> append_events(const std::string& run_id,
                                       const std::vector<event_record>& events) override;
    result<std::vector<phase_record>> get_phases(const std::string& run_id) override;
    result<phase_record> get_phase(const std::string& run_id, const std::string& phase_id, int iteration = 1,
                                   std::optional<int> item = std::nullopt) override;
    result<void> copy_phases(const std::string& from_run, const std::string& to_run,
                             const std::vector<std::string>& phase_ids) override;
    result<std::vector<attempt_record>>
    get_attempts(const std::string& run_id,
                 const std::optional<std::string>& phase_id = std::nullopt) override;
    result<std::vector<event_record>> get_events(const std::string& run_id, std::int64_t after_seq = 0,
                                                 std::size_t limit = SIZE_MAX) override;

    result<void> integrity_check() override;

    /// One transaction for the calls until end_batch, each in a savepoint of its own.
    result<bool> begin_batch() override;
    result<void> end_batch() override;

    struct impl;  // src/postgres/store_impl.hpp

private:
    explicit postgres_store(std::unique_ptr<impl> i) noexcept;
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::persistence
