#pragma once
// The executor's workspace steps (README "Workspace, commands and git"): opening the run's
// workspace (and its git branch, restored on resume and fork), command phases, `files: true`,
// the commit after each phase instance, and `gate:`. Private to the executor.

#include "run/phase_steps.hpp"
#include "run/services.hpp"

#include <boost/asio/awaitable.hpp>

namespace ep::engine::detail {

/// Whether the workflow acts on files at all (a command, `files: true`, tools, or git).
bool needs_workspace(const run_state& rs);

/// Before the run is opened (nothing written yet): a new run's git checkout must be clean
/// unless allow_dirty; a resume or fork may not name another workspace than its recorded one
/// (workspace_conflict). A refusal's store_error carries the workspace error as its cause.
asio::awaitable<persistence::result<void>> check_workspace_request(run_services& sv, run_state& rs);

/// Opens the run's workspace when the workflow needs one (after the run is created or its lease
/// taken): the directory (a new run: the requested one or BASE/RUN_ID, recorded in the run's
/// options; a resume or fork: the recorded one), and with git the branch ep/RUN_ID restored to
/// the commit of the last completed phase instance.
asio::awaitable<persistence::result<void>> open_workspace(run_services& sv, run_state& rs);

/// Runs a command phase's instance: its events, its result in `answer` (output, json, end).
asio::awaitable<void> run_command_phase(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                        phase_answer& answer);

/// `files: true` after a completed LLM answer: writes its fenced files (all or none); a refusal
/// fails the answer with the path and why.
void write_answer_files(run_state& rs, const instance_ref& ref, phase_log& log, phase_answer& answer);

/// With git on, after a completed instance: commits what changed (trailers name the run, phase,
/// iteration, provider, model). A git error fails the answer.
asio::awaitable<void> commit_workspace(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                       phase_answer& answer);

/// `gate:` after a completed instance: a failed gate fails the answer, or, inside a loop body,
/// keeps the loop going (run_state::phase_track::gate_failure).
void apply_gate(run_state& rs, const instance_ref& ref, phase_log& log, phase_answer& answer,
                std::chrono::milliseconds duration);

/// A resume loaded a completed instance: its gate is evaluated again from the stored result,
/// so a loop decides as it did.
void reapply_gate(run_state& rs, const instance_ref& ref, const persistence::phase_record& stored);

/// The runner's spec of a workflow's command (its timeout or `fallback`).
command_spec to_command_spec(const command_decl& decl, std::chrono::milliseconds fallback);

/// An event of the instance, to the sink and the checkpoint's log.
void emit(run_state& rs, const instance_ref& ref, phase_log& log, run_event ev);

}  // namespace ep::engine::detail
