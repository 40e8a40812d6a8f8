#pragma once
// sqlite_store: the embedded run store (SQLite 3, WAL journal, versioned schema).

#include <ep/persistence/open_store.hpp>
#include <ep/persistence/store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

namespace ep::persistence {

/// SQLite's options: the backend-neutral ones (durability, read_only, busy_timeout, clock; see
/// open_store.hpp) plus those only a file store has.
struct sqlite_options : store_options
{
    /// A cap on the database size in pages (PRAGMA max_page_count): a quota, and how tests
    /// simulate a full disk. nullopt: SQLite's default (effectively unlimited).
    std::optional<std::int64_t> max_page_count;
    /// acquire_lease also takes over a lease whose holder is a dead process on this host (so a
    /// resume right after kill -9 need not wait for the heartbeat to go stale).
    bool take_over_dead_local_owner = true;
};

/// Thread safety: every method locks an internal mutex, so one sqlite_store may be shared by
/// threads (calls are serialised). Several sqlite_store objects (or processes) may open the same
/// file: WAL lets readers proceed while one writer writes; writers wait up to busy_timeout.
class sqlite_store final : public store
{
public:
    /// The schema version this build writes (PRAGMA user_version after migration).
    static int schema_version() noexcept;

    /// Opens (creating it and its parent directories unless read_only) and migrates the database.
    /// Errors, each with a message naming `path`:
    ///  - schema_too_new: user_version is newer than schema_version(); nothing was written.
    ///  - corrupt: not a SQLite database / malformed; the file is left untouched.
    ///  - read_only: the file or directory cannot be written (and options.read_only is false).
    ///  - not_found: options.read_only and the file does not exist.
    ///  - invalid_state: options.read_only and the schema is older than this build (needs a
    ///    writable open to migrate).
    ///  - busy, disk_full, io_error.
    static result<std::unique_ptr<sqlite_store>> open(const std::filesystem::path& path,
                                                      sqlite_options options = {});

    ~sqlite_store() override;
    sqlite_store(const sqlite_store&) = delete;
    sqlite_store& operator=(const sqlite_store&) = delete;

    const std::filesystem::path& path() const noexcept;

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

    result<bool> begin_batch() override;
    result<void> end_batch() override;

    struct impl;  // private; defined in src/sqlite/store_impl.hpp

private:
    explicit sqlite_store(std::unique_ptr<impl> i) noexcept;
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::persistence
