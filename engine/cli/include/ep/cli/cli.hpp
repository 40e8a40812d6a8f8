#pragma once
// The `ep-run` command line (DESIGN.md "CLI"): flags, the terminal view, and the formatting of
// what the runtime (ep/runtime/runtime.hpp) returns. It lives in a library (ep::cli) so it can
// be tested without starting a process; engine/cli/main.cpp only calls run_cli.

#include <ep/common/env.hpp>

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace ep::cli {

enum class cli_mode { run, resume, validate, graph, explain, list, show, approve, reject, fork };

/// The parsed command line.
struct cli_options
{
    cli_mode mode = cli_mode::run;
    std::string workflow;                 // WORKFLOW.yaml (run, validate, graph, explain)
    std::string config = "A";             // --config A|B|C|D|E|MIX.yaml
    bool config_given = false;
    std::vector<std::string> inputs;      // --input KEY=VALUE
    std::vector<std::string> input_files; // --input-file KEY=PATH
    std::string db;                       // --db (empty: $EP_DB, else ./.ep/runs.db)
    bool json = false;                    // --json
    bool emulate = false;                 // --emulate
    std::string run_id;                   // --resume / --show / --approve / --reject / --fork RUN_ID
    std::string phase;                    // --approve/--reject RUN_ID PHASE
    std::string comment;                  // --approve/--reject --comment TEXT
    std::string from_phase;               // --fork RUN_ID --from PHASE
    std::optional<double> max_cost;       // --max-cost USD
    std::optional<int> iteration;         // --show --output PHASE --iteration N
    std::optional<int> item;              // --show --output PHASE --item N
    std::string format = "mermaid";       // --graph --format mermaid|dot
    std::string output_phase;             // --show --output PHASE
    bool quiet = false;                   // --quiet
    bool fail_fast = false;               // --fail-fast
    std::string durability = "normal";    // --durability normal|full
    std::optional<std::filesystem::path> personas_file;  // --personas FILE
};

/// What a mode handler gets: the options, the streams, the environment, and the shipped
/// workflows directory (may be empty if none was found).
struct cli_context
{
    const cli_options& options;
    std::ostream& out;  // results (--json events, graphs, explanations)
    std::ostream& err;  // diagnostics and human progress
    const ep::environment& env;
    std::filesystem::path workflows_dir;
};

/// Returns the process exit code (0 ok, 1 run failed, 2 invalid input, 3 waiting for an
/// approval, 130 interrupted).
using cli_handler = std::function<int(cli_context&)>;

/// Handlers for the run, resume, list and show modes. An empty handler prints
/// "<mode>: no handler is installed for this mode" and exits 2. default_cli_handlers() returns
/// the built-in ones (run_commands.cpp, inspect_commands.cpp); tests may substitute their own.
struct cli_handlers
{
    cli_handler run;
    cli_handler resume;
    cli_handler list;
    cli_handler show;
    cli_handler approve;  // --approve and --reject
    cli_handler fork;
};
cli_handlers default_cli_handlers();

/// Parses `args` (args[0] is the program name) and runs the selected mode.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const ep::environment& env,
            const cli_handlers& handlers = default_cli_handlers());

/// main()'s entry: environment from the process (+ ./.env), stdout/stderr.
int run_cli(int argc, char** argv);

}  // namespace ep::cli
