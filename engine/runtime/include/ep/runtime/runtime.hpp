#pragma once
// ep::runtime — the one wiring every front end shares (DESIGN.md "Modules"): it opens the store
// from a URI, builds every provider with one shared keep-alive connection pool, TLS context and
// logger, and runs workflows through the failover layer, the router and the executor. `ep-run`,
// `ep-serve` and `ep-worker` only parse their input, call these data-level operations and render
// what they return; nothing is wired twice.

#include <ep/common/env.hpp>
#include <ep/engine/dag.hpp>
#include <ep/engine/diagnostics.hpp>
#include <ep/engine/inputs.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/router.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/engine/run/executor.hpp>
#include <ep/engine/workflow.hpp>
#include <ep/persistence/records.hpp>
#include <ep/persistence/open_store.hpp>
#include <ep/providers/list_models.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace ep::runtime {

namespace asio = boost::asio;

class otel_tracer;

/// Why a runtime operation did not happen. Front ends map these to their own codes (ep-run:
/// exit 2 for the input errors, 1 for store failures).
enum class runtime_errc
{
    invalid_workflow = 1,  // YAML, schema, policy or compile errors (see runtime_error::problems)
    invalid_input,         // --input/--input-file errors
    unroutable,            // a persona has no usable candidate (the message names what to set)
    invalid_provider,      // a provider configuration cannot be built (bad base URL, CA file)
    unknown_run,           // no such run id (or no store at all)
    lease_held,            // another live process executes the run
    already_completed,     // resume of a completed run: nothing to do
    not_waiting,           // approve/reject of a phase that is not an approval gate waiting for a decision
    unknown_phase,         // fork --from / show --output of a phase the run does not have
    store_unusable,        // corrupt, newer schema, read-only, unknown URI scheme
    store_failed,          // an I/O error, a full disk, a busy database
    unknown_model,         // chat(): the model is neither persona/NAME nor PROVIDER/MODEL of a known provider
};

const boost::system::error_category& runtime_category() noexcept;

inline boost::system::error_code make_error_code(runtime_errc e) noexcept
{
    return {static_cast<int>(e), runtime_category()};
}

/// Everything found wrong with a workflow and its inputs, sorted, each with its location.
struct problems
{
    engine::diagnostics diag;             // FILE:LINE:COL: message
    std::vector<std::string> input_errors;  // one sentence each

    bool empty() const noexcept { return diag.empty() && input_errors.empty(); }
    /// Every problem on its own line.
    std::string str() const;
};

struct runtime_error
{
    boost::system::error_code code;  // runtime_errc
    std::string message;             // one line for people (never a secret)
    problems details;                // invalid_workflow / invalid_input: the list
};

template <class T>
using result = boost::system::result<T, runtime_error>;

/// A workflow ready to run: loaded, merged with its policy, compiled, its inputs bound.
struct prepared_workflow
{
    engine::workflow_spec spec;
    engine::policy routing;
    engine::dag graph;
    engine::input_values inputs;
    std::string definition;  // the YAML text, stored with the run (a resume uses it, not the file)
};

/// Where a workflow comes from: a file, or text (the server's `{yaml: TEXT}`).
struct workflow_source
{
    std::filesystem::path file;
    std::optional<std::string> text;
    std::string display_name;  // FILE in diagnostics for `text` (default "workflow.yaml")
};

struct prepare_options
{
    std::string config = "A";                // the mix: A|B|C|D|E or a mix file
    std::vector<std::string> inputs;         // KEY=VALUE
    std::vector<std::string> input_files;    // KEY=PATH
    /// false for --validate/--graph/--explain: a missing required input is no error then.
    bool bind_inputs = true;
};

/// How a new or resumed run is to be executed.
struct run_options
{
    bool fail_fast = false;
    /// Resume/approve/fork: switch the remaining phases to this mix (empty: keep the stored one).
    std::string config;
    /// The run's cost limit over the workflow's `budget.max_cost_usd` (`--max-cost`); kept with
    /// the run, so a later resume keeps it unless it gives another.
    std::optional<double> max_cost_usd;
    /// Where the run acts on files (`--workspace`, `--git`, `--allow-dirty`). A resume or fork
    /// with an empty `dir` uses the directory stored with the run.
    engine::workspace_request workspace;
};

/// What a fork changes: inputs (KEY=VALUE over the parent's) and, through run_options, the mix.
struct fork_options
{
    std::string from_phase;           // this phase and everything downstream run again
    std::vector<std::string> inputs;  // KEY=VALUE
};

struct run_list
{
    std::vector<persistence::run_record> runs;  // newest first
    bool more = false;                          // older runs exist beyond `limit`
    bool store_missing = false;                 // there is no store yet (so no runs)
};

/// A run as the store holds it: the record, every phase and every attempt.
struct run_details
{
    persistence::run_record run;
    std::vector<persistence::phase_record> phases;
    std::vector<persistence::attempt_record> attempts;
};

/// `ep-run --models PROVIDER`: what the provider's own list endpoint returned, marked against
/// the catalogue.
struct model_listing
{
    std::string provider;
    std::string base_url;
    std::vector<providers::model_row> rows;  // in the provider's order
    std::vector<std::string> not_listed;     // catalogue ids the provider did not list
};

/// Which runs find_runs returns, newest first.
struct run_query
{
    std::optional<persistence::run_status> status;
    std::string workflow;   // exact workflow name; empty: any
    std::string before_id;  // only runs created before this one (the last id of the previous page)
    std::size_t limit = 50;
};

/// One chat call routed like a phase (the server's OpenAI-compatible gateway).
struct chat_call
{
    /// "persona/NAME": the persona's candidates under `mix` (with its system prompt, temperature
    /// and max_tokens where the request has none); "PROVIDER/MODEL": that model alone.
    std::string model;
    std::string mix = "A";  // A|B|C|D|E or a mix file
    providers::chat_request request;
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct runtime_config
{
    ep::environment env;  // credentials, base URLs, EP_TIMEOUT, EP_DB, EP_LOG_LEVEL
    std::filesystem::path workflows_dir;                   // personas.yaml, capabilities.yaml, mixes/
    std::optional<std::filesystem::path> personas_file;   // replaces workflows_dir/personas.yaml
    /// The store: a path, `sqlite:PATH` (and, with the Postgres backend, `postgres://…`).
    /// Empty: $EP_DB, else ./.ep/runs.db.
    std::string store;
    persistence::durability durability = persistence::durability::normal;
    /// fail_fast is per run (run_options); default_phase_timeout comes from EP_TIMEOUT when the
    /// environment sets it.
    engine::executor_options executor;
    /// Null: a stderr logger named `program` at EP_LOG_LEVEL (default warn).
    std::shared_ptr<spdlog::logger> logger;
    std::string program = "ep";
    /// Builds the provider for one configuration. Null (the default, and what every program
    /// uses): providers::make_provider on the runtime's shared pool, TLS context and logger.
    /// Benchmarks and tests put an in-process provider here to measure or script the rest.
    std::function<std::shared_ptr<providers::provider>(const providers::provider_config&)> make_provider;
};

/// @par Thread safety
/// Strand-confined: construct it and call everything on the thread running its executor's
/// io_context. Several runs may be in flight at once (the server); they share the store, the
/// connection pool, the TLS context, the circuit breakers and the provider limits.
class runtime
{
public:
    runtime(asio::any_io_executor ex, runtime_config cfg);
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    const runtime_config& config() const noexcept;
    const std::shared_ptr<spdlog::logger>& logger() const noexcept;
    /// The store location in use (config().store, else $EP_DB, else ./.ep/runs.db).
    std::string store_location() const;
    /// True while a store call is on its way back to this runtime's executor: the front end's
    /// event loop polls rather than sleeps then (engine::run_event_loop). Any thread.
    bool store_call_in_flight() const noexcept;

    // ---- workflows: no store, no provider ------------------------------------------------------

    /// Loads `source`, its policy (mix, personas, inline sections, credentials from the
    /// environment), compiles it and binds the inputs. Errors: invalid_workflow, invalid_input
    /// (every problem in runtime_error::details).
    result<prepared_workflow> prepare(const workflow_source& source, const prepare_options& options) const;

    /// The routing of every phase (`--explain`); calls no provider.
    engine::routing_explanation explain(const prepared_workflow& workflow) const;

    // ---- runs ------------------------------------------------------------------------------------

    // (No default arguments on these coroutines: g++ 12 destroys a defaulted by-value argument
    // of a coroutine twice. Pass a named run_options.)

    /// Runs `workflow` as a new run to its end. The store is opened (created) on first use.
    /// Refused before anything is stored when a persona cannot be routed (unroutable).
    /// Errors: unroutable, invalid_provider, store_unusable, store_failed. A run that fails or
    /// is stopped is not an error: see run_outcome::status.
    /// @par Per-operation cancellation
    /// Through `control` only (engine::run_control): the run records how it ended.
    asio::awaitable<result<engine::run_outcome>> run(std::shared_ptr<const prepared_workflow> workflow,
                                                     engine::event_sink& sink, engine::run_control* control,
                                                     run_options options);

    /// Stores `workflow` as a new `pending` run that this process does not execute (`ep-run
    /// --detach`): an ep-worker sharing the store claims it. Returns the run id. Refused before
    /// anything is stored when a persona cannot be routed here. With a PostgreSQL store the
    /// insert wakes idle workers (NOTIFY). Errors: unroutable, store_unusable, store_failed.
    result<std::string> submit(const prepared_workflow& workflow, const run_options& options);

    /// Continues a failed, interrupted or crashed run from its stored definition; completed
    /// phases are not sent again. Errors: unknown_run, already_completed, lease_held,
    /// invalid_workflow (the stored definition no longer loads with today's policy), unroutable,
    /// store_unusable, store_failed.
    asio::awaitable<result<engine::run_outcome>> resume(std::string run_id, engine::event_sink& sink,
                                                        engine::run_control* control, run_options options);

    /// Records a person's decision on the approval gate `decision.phase` (it must be waiting)
    /// and continues the run as resume() would. Errors: those of resume(), not_waiting.
    asio::awaitable<result<engine::run_outcome>> approve(std::string run_id, engine::approval_decision decision,
                                                         engine::event_sink& sink, engine::run_control* control,
                                                         run_options options);

    /// A new run from `run_id`: every instance of the phases not downstream of
    /// `fork.from_phase` is copied completed, and that phase and everything downstream run
    /// again, with the changed inputs or mix. The new run names its parent. Errors:
    /// unknown_run, unknown_phase, invalid_input, invalid_workflow, unroutable, store errors.
    asio::awaitable<result<engine::run_outcome>> fork(std::string run_id, fork_options fork, engine::event_sink& sink,
                                                      engine::run_control* control, run_options options);

    /// The newest `limit` runs. A missing store is an empty list. Opens the store read-only if
    /// nothing opened it yet. Errors: store_unusable, store_failed.
    result<run_list> list(std::size_t limit = 50);

    /// One run with its phases and attempts. Errors: unknown_run, store_unusable, store_failed.
    result<run_details> show(const std::string& run_id);

    // ---- providers --------------------------------------------------------------------------

    /// Lists `provider`'s models from its own list endpoint over the shared pool and TLS
    /// context (policy loaded as for a run with mix `config`, inline sections of no workflow).
    /// Errors: invalid_workflow (the shipped policy does not load), invalid_provider (unknown
    /// name, unavailable, no list endpoint, or the listing failed; the message says which and
    /// never holds a credential).
    /// @par Per-operation cancellation
    /// Terminal (the connection is closed); asio::error::operation_aborted.
    asio::awaitable<result<model_listing>> list_models(std::string provider, std::string config);

    // ---- long-lived front ends (ep-serve): run_registry.hpp, runtime_queries.cpp, chat.cpp ----

    /// Opens (creating) the store for writing now, so that every later read and run shares one
    /// writable store (a read-only open is never swapped under a request in flight).
    /// Errors: store_unusable, store_failed.
    result<void> open_store();
    /// The lease owner this runtime's runs take (executor.owner, else "host:pid").
    std::string owner() const;
    /// The OpenTelemetry tracer (otel.hpp) when OTEL_EXPORTER_OTLP_ENDPOINT is set, else null.
    const std::shared_ptr<otel_tracer>& tracer() const noexcept;
    /// The failover layer every run and chat call shares (circuits, limits), for metrics.
    const engine::failover_executor& failover() const noexcept;

    /// Runs matching `query`, newest first; `more` when another page exists. Without a store:
    /// an empty list. Needs open_store() or an earlier run. Errors: store_failed.
    asio::awaitable<result<run_list>> find_runs(run_query query);
    /// One run with its phases and attempts, read on the store's thread. Errors: unknown_run.
    asio::awaitable<result<run_details>> fetch_run(std::string run_id);
    /// The run's stored events with seq > after_seq (at most `limit`), in seq order.
    /// Errors: unknown_run, store_failed.
    asio::awaitable<result<std::vector<persistence::event_record>>> fetch_events(std::string run_id,
                                                                                 std::int64_t after_seq,
                                                                                 std::size_t limit);

    /// One chat call through the router and the failover layer a phase uses (same retries,
    /// fallback, circuit breakers and limits); `callbacks` see every attempt and stream event.
    /// Errors: unknown_model, unroutable (nothing can serve it; the message says what to set),
    /// invalid_workflow (the policy or mix does not load). A call that fails is no error: see
    /// phase_call_result::ec.
    /// @par Per-operation cancellation
    /// Terminal, at any point (the result's ec is then operation_aborted).
    asio::awaitable<result<engine::phase_call_result>> chat(chat_call call, const engine::failover_callbacks& callbacks);

    struct impl;

private:
    struct continuation;  // resume, approve and fork (continue_runs.cpp)
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::runtime

template <>
struct boost::system::is_error_code_enum<ep::runtime::runtime_errc> : std::true_type
{
};
