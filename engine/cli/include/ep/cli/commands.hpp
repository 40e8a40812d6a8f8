#pragma once
// The run-side modes of `ep-run` (DESIGN.md "CLI"), as plain functions the CLI dispatch
// (cli.hpp, cli_handlers) calls. Each returns the process exit code:
//   0 success · 1 the run failed (resumable), or the store failed · 2 invalid input (flags, YAML,
//   config, unknown run id, a run leased by a live process, an unusable database) · 3 waiting for
//   an approval (the commands that decide it are printed) · 130 interrupted.
// Results go to ctx.out (the `--json` events, `--list`/`--show` tables, `--output` text);
// diagnostics and human progress to ctx.err.

#include <ep/cli/cli.hpp>
#include <ep/common/env.hpp>
#include <ep/runtime/runtime.hpp>

#include <filesystem>

namespace ep::cli {

namespace asio = boost::asio;

/// `ep-run WORKFLOW.yaml [--config …] [--input K=V]… [--input-file K=PATH]… [--db PATH] [--json]
/// [--emulate] [--quiet] [--fail-fast] [--durability normal|full]`.
/// With --emulate the emulator runs in-process on the run's io_context and every HTTP provider
/// is pointed at it with a dummy key (development only; the emulator labels its answers).
/// SIGINT/SIGTERM stop the run gracefully (exit 130); a second signal exits at once.
int run_workflow_command(cli_context& ctx);

/// `ep-run --resume RUN_ID [--config …] [--db PATH] [--json] [--emulate]`: continues a failed,
/// interrupted or crashed run from its stored definition; completed phases are not sent again.
int resume_command(cli_context& ctx);

/// `ep-run --approve|--reject RUN_ID PHASE [--comment TEXT]`: records the decision (by $USER)
/// on the waiting gate, then continues the run as --resume does.
int approve_command(cli_context& ctx);

/// `ep-run --fork RUN_ID --from PHASE [--input K=V]… [--config X]`: a new run whose phases
/// upstream of PHASE are copied from RUN_ID; PHASE and everything downstream run again.
int fork_command(cli_context& ctx);

/// The per-run options the flags ask for (--fail-fast, --max-cost, --config on a continued run).
runtime::run_options run_options_for(const cli_context& ctx);

/// `ep-run --list`: the latest runs (id, workflow, status, duration, tokens, cost).
int list_command(cli_context& ctx);

/// `ep-run --show RUN_ID [--output PHASE]`: phases, providers, attempts, usage and cost; with
/// --output, only that phase's output text.
int show_command(cli_context& ctx);

/// The handlers above, for cli_handlers.
cli_handlers run_cli_handlers();

/// The runtime configuration the flags ask for (store, durability, personas, workflows dir),
/// with `env` as the environment (the emulated one under --emulate).
runtime::runtime_config runtime_config_for(const cli_context& ctx, const ep::environment& env);

/// The exit code of a runtime error: 2 for input problems (flags, YAML, config, unroutable
/// persona, unknown run, held lease, unusable store), 1 for a store that failed, 0 for a
/// resume of a completed run.
int exit_code_for(const runtime::runtime_error& e);

/// Prints a runtime error to ctx.err: every located problem (FILE:LINE:COL: message) when it
/// has them, else "ep-run: <message>".
void print_problems(cli_context& ctx, const runtime::runtime_error& e);

/// `env` with every HTTP provider pointed at an emulator at `base_url` (http://127.0.0.1:P)
/// and given a dummy key, so that all of them are available.
ep::environment emulated_environment(const ep::environment& env, const std::string& base_url);

}  // namespace ep::cli
