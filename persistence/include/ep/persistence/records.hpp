#pragma once
// The plain records the run store keeps: runs, phase results, attempts and the event log.
//
// Callers decide what goes into a record and MUST NOT put secrets in it: no API keys, no
// Authorization headers, no credential-bearing URLs. The store writes what it is given verbatim.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ep::persistence {

/// Wall-clock time at millisecond precision: what the store keeps (as ms since the Unix epoch).
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// system_clock::now() truncated to milliseconds.
timestamp now_ms() noexcept;

enum class run_status
{
    pending,  // created, no phase started yet
    running,  // an owner is executing it (see owner/heartbeat for liveness)
    waiting,  // stopped at an approval gate until someone decides; nobody owns it meanwhile
    completed,
    failed,       // a phase failed; resumable
    interrupted,  // stopped by a signal; resumable
};

enum class phase_status
{
    running,    // begun, not yet committed (after a crash: must be re-run)
    waiting,    // an approval gate reached, no decision recorded yet
    completed,  // output is final; a resume loads it instead of calling a provider again
    failed,
    skipped,    // not run: its `when` was false, or an upstream phase failed/was skipped
    cancelled,  // stopped by a signal or fail-fast
};

enum class attempt_outcome
{
    ok,
    failed,
    cancelled,
};

std::string_view to_string(run_status s) noexcept;
std::string_view to_string(phase_status s) noexcept;
std::string_view to_string(attempt_outcome o) noexcept;
/// The inverse of to_string; nullopt for unknown text.
std::optional<run_status> parse_run_status(std::string_view text) noexcept;
std::optional<phase_status> parse_phase_status(std::string_view text) noexcept;
std::optional<attempt_outcome> parse_attempt_outcome(std::string_view text) noexcept;

/// completed/failed/interrupted: the run has stopped (failed/interrupted remain resumable).
/// `waiting` is not finished: the run continues once the gate is decided.
bool is_finished(run_status s) noexcept;

/// Aggregates over a run's phase instances (every row: each iteration of a loop and each item
/// of a fan-out, and a fan-out's own row), computed by the store when reading (never written).
/// So that usage is not counted twice, the row of a fan-out phase itself (item empty) should
/// carry no tokens or cost of its own: its items carry them.
struct run_totals
{
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    double cost_usd = 0.0;                  // the known costs; a lower bound when unpriced_phases > 0
    int unpriced_phases = 0;                // instances whose cost is unknown (NULL)
    std::chrono::milliseconds duration{0};  // finished (or last update) minus created
    int phases_completed = 0;               // completed instances
    int phases_failed = 0;                  // failed instances
};

struct run_record
{
    std::string id;               // sortable by time; see new_run_id(). Empty on create → generated.
    std::string workflow;         // workflow name
    std::string definition;       // snapshot of the workflow YAML, so a resume uses what started
    std::string definition_hash;  // hex SHA-256 of `definition`; empty on create → computed
    nlohmann::json inputs = nlohmann::json::object();  // user inputs (never credentials)
    std::string mix;                                   // provider mix name ("A".."E" or a file path)
    /// Free-form run settings the runtime keeps with the run (workspace, max_cost_usd, git,
    /// fail_fast, …), so that a resume applies what the run started with. Never credentials.
    nlohmann::json options = nlohmann::json::object();
    std::string parent_run_id;  // a fork's origin run; empty for an ordinary run
    std::string parent_phase;   // the phase the fork re-ran from; empty for an ordinary run
    run_status status = run_status::pending;
    std::string error;                   // why the run failed/was interrupted; empty otherwise
    std::string owner;                   // lease holder "host:pid"; empty when free
    std::optional<timestamp> heartbeat;  // the holder's last heartbeat
    timestamp created{};                 // set by the store on create
    timestamp updated{};                 // last change to the run row itself (status, mix, lease taken);
                                         // committing a phase does not touch it (one page less per commit)
    std::optional<timestamp> finished;   // set when the status becomes completed/failed/interrupted
    run_totals totals;                   // read-only aggregate, filled by get_run / list_runs
};

/// Which runs list_runs returns: newest first (by creation), at most `limit`.
struct run_filter
{
    std::optional<run_status> status;  // only runs in this status
    std::string workflow;              // only runs of this workflow (exact name); empty: any
    std::size_t limit = 50;
    /// A cursor for the next page: only runs listed after the run with this id (created
    /// before it). An id that is no stored run works as a time bound instead: runs whose id
    /// sorts before it (ids are time-sortable, e.g. "20250101T000000Z"). Empty: from the newest.
    std::string before_id;
};

/// One checkpointed instance of a phase, keyed by (run, phase, iteration, item): the phase
/// itself (item empty), or one item of a fan-out (item 0..N-1); iteration counts the passes of
/// a loop (1-based). For a fan-out phase the row with an empty item holds the aggregate
/// (outputs in item order). "Completed is final" holds per instance.
struct phase_record
{
    std::string run_id;
    std::string phase_id;
    int iteration = 1;        // 1-based pass of the loop this phase is in (1 outside loops)
    std::optional<int> item;  // the fan-out item (0-based); empty for the phase itself
    phase_status status = phase_status::completed;
    std::string output_text;
    std::optional<nlohmann::json> output_json;  // the parsed (and validated) JSON output, if any
    std::string provider;
    std::string model;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::optional<double> cost_usd = 0.0;  // nullopt (NULL): unknown, the model has no price
    std::optional<timestamp> started;
    std::optional<timestamp> finished;
    std::string error;  // our diagnostics (redacted by the caller); empty on success
    int attempts = 0;   // number of provider attempts made for this phase
};

struct attempt_record
{
    std::string run_id;
    std::string phase_id;
    int iteration = 1;  // the instance the attempt belongs to (see phase_record)
    std::optional<int> item;
    int attempt = 1;  // 1-based, per instance; recording the same number again replaces it
    std::string provider;
    std::string model;
    attempt_outcome outcome = attempt_outcome::ok;
    std::string error;
    std::optional<int> http_status;
    std::chrono::milliseconds latency{0};
    timestamp started{};
};

/// One entry of the append-only event log (the `--json` events of DESIGN.md).
struct event_record
{
    std::string run_id;    // assigned by the store from the call's run id
    std::int64_t seq = 0;  // assigned by the store: 1, 2, 3… per run, strictly increasing
    timestamp ts{};        // caller's time; if left at the epoch the store uses now
    std::string type;      // e.g. "phase_completed"
    nlohmann::json payload = nlohmann::json::object();
};

}  // namespace ep::persistence
