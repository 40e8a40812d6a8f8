#pragma once
// What the executor's steps use besides the run's own state: the store, the policy, the router's
// candidates, the failover layer, the options and the logger. One per workflow_executor.

#include "run/run_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <spdlog/logger.h>

namespace ep::engine::detail {

struct run_services
{
    persistence::async_store& store;
    const policy& pol;
    const candidate_fn& candidates;
    failover_executor& failover;
    const executor_options& opts;
    spdlog::logger& log;
};

/// A summary with just the instance's identity and status.
inline phase_summary summary_of(const std::string& id, int iteration, persistence::phase_status status)
{
    phase_summary s;
    s.id = id;
    s.iteration = iteration;
    s.status = status;
    return s;
}

// ---- run_open.cpp: a new run, or a resume's lease and stored instances ------------------------
asio::awaitable<persistence::result<void>> open_run(run_services& sv, run_state& rs);

// ---- scheduler.cpp ---------------------------------------------------------------------------
/// Starts what can start, takes completions, until nothing is in flight and nothing can start.
asio::awaitable<void> schedule(run_services& sv, run_state& rs);
/// Records a phase (its current iteration) as skipped, with why.
asio::awaitable<void> commit_skip(run_services& sv, run_state& rs, std::size_t phase, std::string reason);
/// Records the phase's current iteration as failed without running it (an expression error,
/// an exhausted loop, a gate that timed out), with why.
asio::awaitable<void> commit_phase_failure(run_services& sv, run_state& rs, std::size_t phase,
                                           boost::system::error_code code, std::string message);
/// A phase's current iteration ended (completed, failed, skipped, cancelled): loops and
/// fail-fast react.
asio::awaitable<void> on_phase_finished(run_services& sv, run_state& rs, std::size_t phase);

// ---- run_document.cpp ------------------------------------------------------------------------
/// The document expressions read: {inputs, phases: {ID: {…}}, iteration, item, index}.
nlohmann::json run_document(const run_state& rs, std::size_t phase, std::optional<std::size_t> item = {});
/// The render context of an instance (rs.context, with the instance's loop iteration, item
/// and index set): valid until another instance's context is asked for.
render_context& instance_context(run_state& rs, std::size_t phase, std::optional<std::size_t> item = {});
/// Records `result` as the phase's latest (what templates and expressions read next).
void set_result(run_state& rs, std::size_t phase, render_context::phase_result result);
/// The pass of the innermost loop holding `phase` (nullopt outside loops).
std::optional<int> loop_iteration_of(const run_state& rs, std::size_t phase);
/// Adds iteration/item to a phase event, as DESIGN.md says: iteration inside loops, item for fan-out items.
run_event& tag(const run_state& rs, run_event& ev, std::size_t phase, std::optional<std::size_t> item = {});
/// The stored record of an instance, if a resume found one.
const persistence::phase_record* stored_instance(const run_state& rs, std::size_t phase, std::optional<std::size_t> item);

// ---- loops.cpp -------------------------------------------------------------------------------
/// After `owner`'s iteration completed: evaluates `until`; goes round again, or ends the loop.
asio::awaitable<void> after_loop_pass(run_services& sv, run_state& rs, std::size_t owner);
/// How a need looks to a phase waiting on it. A need inside a loop that does not hold the
/// phase settles only when that loop has ended; a loop exhausted with on_exhausted: fail counts
/// as a failure of its owner.
enum class need_status { waiting, completed, skipped, failed };
need_status status_of_need(const run_state& rs, std::size_t need, std::size_t phase);

// ---- fan_out.cpp -----------------------------------------------------------------------------
/// Evaluates for_each and expands the phase into its items (or fails it). True when expanded.
asio::awaitable<bool> expand_items(run_services& sv, run_state& rs, std::size_t phase);
/// Items that may start now (per max_parallel), in item order.
std::vector<std::size_t> startable_items(const run_state& rs, std::size_t phase, std::size_t room);
/// Every item finished: commits the phase's aggregate (outputs in item order) or its failure.
asio::awaitable<void> finish_fan_out(run_services& sv, run_state& rs, std::size_t phase);

// ---- gates.cpp -------------------------------------------------------------------------------
/// An approval gate reached: a stored or given decision completes it, a passed timeout applies
/// the default (or fails it), else it waits (recorded, phase_waiting).
asio::awaitable<void> reach_gate(run_services& sv, run_state& rs, std::size_t phase);

// ---- budget.cpp ------------------------------------------------------------------------------
/// Why a call of `phase` to `c` must not be made (the run's or the phase's budget could be
/// exceeded), or nullopt; when allowed, its worst case is reserved in `reserved` until released.
std::optional<std::string> check_budget(run_state& rs, const phase_spec& phase, double phase_spent,
                                        const candidate& c, const providers::chat_request& req,
                                        std::pair<double, std::int64_t>& reserved);
void release_budget(run_state& rs, std::pair<double, std::int64_t>& reserved);

// ---- phase_runner.cpp ------------------------------------------------------------------------
/// Runs one LLM instance (or loads it from the store) and checkpoints it; reports on rs.done.
asio::awaitable<void> run_instance(run_services& sv, run_state& rs, instance_ref ref);

}  // namespace ep::engine::detail
