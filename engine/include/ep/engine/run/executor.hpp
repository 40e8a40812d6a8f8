#pragma once
// workflow_executor: runs a compiled workflow on one io_context. A phase starts as soon as its
// own `needs` are completed (never level by level), up to a global concurrency limit; each
// phase's checkpoint commits (one store transaction) before its dependents start, so a killed
// run loses at most the phases in flight and a resume never sends a completed phase again.

#include <ep/engine/dag.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/router.hpp>
#include <ep/engine/routing/failover.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/engine/workflow.hpp>
#include <ep/engine/workspace/command.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace ep::engine {

namespace detail { struct run_state; }

using namespace std::chrono_literals;

/// The providers a run may call, by configured name.
using provider_map = std::map<std::string, std::shared_ptr<providers::provider>>;

/// A phase's ordered failover candidates, or why there are none (names what to set).
struct candidate_list
{
    std::vector<candidate> candidates;
    std::string error;  // set when `candidates` is empty
};

/// Turns a phase into its ordered candidate list. The executor calls it once per phase start,
/// with the estimated token count of the rendered prompt (for the context-window filter).
using candidate_fn = std::function<candidate_list(const phase_spec& phase, std::int64_t prompt_tokens)>;

/// Routes the phase with `r` (persona preferences, mix, capabilities, availability, context
/// window) and binds the plan to the providers in `available`.
candidate_list build_candidates(const phase_spec& phase, const router& r, const provider_map& available,
                                std::int64_t prompt_tokens = 0);
/// The same with a router over `pol` that ignores EP_DEFAULT_PROVIDER (tests, examples).
candidate_list build_candidates(const phase_spec& phase, const policy& pol, const provider_map& available,
                                std::int64_t prompt_tokens = 0);

/// Stops a run from outside (SIGINT, an API call). Strand-confined: call request_stop on the
/// executor's thread (a signal_set handler on the same io_context qualifies).
class run_control
{
public:
    /// In-flight phases get terminal cancellation, are recorded `cancelled`, nothing new
    /// starts, and the run ends `interrupted` (resumable). Idempotent.
    void request_stop();
    bool stop_requested() const noexcept { return stopped_; }

private:
    friend class workflow_executor;
    bool stopped_ = false;
    std::function<void()> on_stop_;  // installed by the running executor
};

struct executor_options
{
    std::size_t max_concurrency = 16;  // phases in flight at once, over the whole run
    bool fail_fast = false;            // first failure: cancel the others and skip the rest
    /// Used when a phase has no `timeout` (the CLI passes EP_TIMEOUT here).
    std::chrono::milliseconds default_phase_timeout = 10min;
    std::chrono::milliseconds heartbeat_interval = 5s;  // lease renewal while running
    std::chrono::milliseconds lease_ttl = 30s;          // a heartbeat older than this is stale
    /// A phase still running this long after its start is marked `running` in the store, for
    /// observers (`ep-run --show` from another terminal). A quicker phase goes straight to its
    /// checkpoint: marking every phase at its start would cost a second commit per phase.
    std::chrono::milliseconds running_mark_delay = 100ms;
    std::string owner;                                   // lease owner; empty: default_owner()
    /// How command phases, run_tests and git run (rlimits, sandbox, the secrets to refuse and
    /// redact: the runtime fills these with the configured key values).
    command_options commands;
    std::shared_ptr<spdlog::logger> logger;              // null: ep::default_logger()
};

/// What to run. New run: `definition`, `inputs` and `mix`; resume: `resume_run_id` (the
/// caller loads spec/graph from the stored definition; `mix` replaces the stored one when
/// non-empty). `spec` and `graph` must outlive the run() call.
/// A person's decision on an approval gate (`ep-run --approve|--reject`).
struct approval_decision
{
    std::string phase;
    bool approved = true;
    std::string comment;
    std::string by;  // who decided ($USER, an API token's name)
};

/// Where a run acts on files (README "Workspace, commands and git"). Opened only when the
/// workflow needs one (a command, `files: true`, tools, or git).
struct workspace_request
{
    /// The workspace directory (`--workspace DIR`; "." is the user's checkout). Empty: a new
    /// run uses `base`/RUN_ID, a resume or fork the one stored with the run.
    std::filesystem::path dir;
    std::filesystem::path base = ".ep/workspaces";
    std::optional<bool> git;  // `--git`: over the workflow's `git:`
    bool allow_dirty = false; // `--allow-dirty`: accept uncommitted changes in a git workspace
};

/// A resume, approval or fork that asks for workspace `asked` (`--workspace DIR`) while the run
/// (`run_options`: its run_record::options) has another one recorded: the sentence refusing it,
/// else nullopt (nothing asked, nothing recorded yet, or the same directory). A run's files and
/// its git branch live in its recorded workspace, so it only ever continues there.
std::optional<std::string> workspace_conflict(const nlohmann::json& run_options, const std::filesystem::path& asked);

struct run_request
{
    const workflow_spec* spec = nullptr;
    const dag* graph = nullptr;
    std::string definition;                     // the YAML text, stored as the run's snapshot
    std::map<std::string, std::string> inputs;  // name -> text (input_texts()); new runs only
    std::string mix;
    std::string resume_run_id;
    /// Resume only: recorded on the gate `phase` (which must be waiting) before the run goes on.
    std::optional<approval_decision> decision;
    /// The run's cost limit, over the workflow's `budget.max_cost_usd` (`--max-cost`).
    std::optional<double> max_cost_usd;
    /// Stored with a new run (run_record::options): the runtime's settings for it.
    nlohmann::json options = nlohmann::json::object();
    /// A fork's origin (new runs only): stored with the run.
    std::string parent_run_id;
    std::string parent_phase;
    workspace_request workspace;
};

/// One phase instance as it ended (or was loaded from the store).
struct phase_summary
{
    std::string id;
    int iteration = 1;         // the loop pass (1 outside loops)
    std::optional<int> item;   // the fan-out item; empty for the phase itself
    persistence::phase_status status = persistence::phase_status::completed;
    std::string provider;
    std::string model;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::optional<double> cost_usd = 0.0;  // nullopt: unknown (a model without a price)
    std::chrono::milliseconds duration{0};
    std::string error;     // failed/cancelled: why; skipped: the reason
    boost::system::error_code error_code;  // failed/cancelled: the class of failure (workflow_errc,
                                           // routing_errc, provider_errc, persistence)
    bool from_checkpoint = false;  // loaded from the store by a resume, not run now
    std::string output;
    std::optional<int> exit_code;  // a command phase's
};

struct run_outcome
{
    std::string run_id;
    /// completed, failed (resumable), interrupted (resumable) or waiting (at an approval gate:
    /// `waiting` lists which).
    persistence::run_status status = persistence::run_status::completed;
    std::string error;                  // first failure, or why the run stopped
    std::vector<phase_summary> phases;  // the last instance of each phase with a status, in document order
    std::vector<std::string> waiting;   // gates waiting for a decision
    const phase_summary* find(const std::string& id) const;
    std::string workspace;  // the workspace's directory, when the run had one
    std::string branch;     // its git branch (ep/RUN_ID), when git was on
};

/// @par Thread safety
/// Strand-confined: construct and call run() on one io_context thread (the failover executor
/// and the providers share that requirement). Several runs may be in flight on the same
/// workflow_executor at once.
class workflow_executor
{
public:
    /// `store`, `pol` and `failover` are not owned and must outlive every run.
    workflow_executor(persistence::async_store& store, const policy& pol, candidate_fn candidates,
                      failover_executor& failover, executor_options opts = {});

    /// Runs (or resumes) a workflow until nothing more can run, and returns how it ended.
    ///
    /// A new run is created in the store with its definition, inputs, mix and this process as
    /// lease owner; `run_started` is emitted. A resume takes the lease (refused with
    /// persistence_errc::lease_held while a live owner renews it; taken over when stale), loads
    /// the completed phases' outputs and conversations, and runs only the rest.
    ///
    /// Every event goes to `sink` and to the store's event log (text deltas coalesced per
    /// phase in the store). The run ends `completed`, `failed` (a phase failed; its dependents
    /// were skipped; resumable), `interrupted` (`control` stopped it; resumable) or `waiting`
    /// (an approval gate waits; the rest that could run has run; the lease is released).
    ///
    /// @returns the outcome, or a store_error when the run could not start (unknown run id,
    /// lease held, I/O); store errors after the start fail the phases concerned.
    ///
    /// @par Per-operation cancellation
    /// Through `control` only (see run_control). Cancelling the awaiting coroutine itself is
    /// not supported: a run always records how it ended.
    asio::awaitable<persistence::result<run_outcome>> run(run_request req, event_sink& sink,
                                                          run_control* control = nullptr);

private:
    asio::awaitable<void> heartbeat(detail::run_state& rs);
    asio::awaitable<void> mark_running(detail::run_state& rs);
    asio::awaitable<run_outcome> finish_run(detail::run_state& rs);

    persistence::async_store& store_;
    const policy& policy_;
    candidate_fn candidates_;
    failover_executor& failover_;
    executor_options opts_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ep::engine
