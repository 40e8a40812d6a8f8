// The ep-run command line: flags (CLI11) -> cli_options -> one mode handler.
#include <ep/cli/cli.hpp>
#include <ep/cli/commands.hpp>
#include <ep/engine/graph.hpp>
#include <ep/engine/router.hpp>
#include <ep/engine/workspace/report.hpp>

#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

namespace ep::cli {
namespace {

constexpr const char* description = R"(ep-run - run multi-phase LLM workflows written in YAML.

  ep-run WORKFLOW.yaml [--config A|B|C|D|E|MIX.yaml] [--input KEY=VALUE]... [--json] [--emulate]
  ep-run --validate WORKFLOW.yaml
  ep-run --graph WORKFLOW.yaml [--format mermaid|dot]
  ep-run --explain WORKFLOW.yaml [--config ...]
  ep-run --resume RUN_ID | --list | --show RUN_ID [--output PHASE [--iteration N] [--item N]]
  ep-run --approve|--reject RUN_ID PHASE [--comment TEXT]
  ep-run --fork RUN_ID --from PHASE [--input KEY=VALUE]... [--config ...]
  ep-run --models PROVIDER

Credentials come from EP_OPENAI_API_KEY, EP_ANTHROPIC_API_KEY, EP_GEMINI_API_KEY (or a base URL:
EP_*_BASE_URL; EP_CLAUDE_CLI for the Claude Code CLI); ./.env is read too.
Exit codes: 0 ok, 1 run failed (resumable), 2 invalid input, 3 waiting for an approval,
130 interrupted.)";

int no_handler(cli_context& ctx, const char* mode)
{
    ctx.err << "ep-run: " << mode << ": no handler is installed for this mode\n";
    return 2;
}

// Prepares ctx.options.workflow without binding required inputs (validate, graph, explain);
// prints every problem and returns nullopt when there is one.
std::optional<runtime::prepared_workflow> prepare_for_inspection(cli_context& ctx, runtime::runtime& rt)
{
    runtime::prepare_options popts;
    popts.config = ctx.options.config;
    popts.inputs = ctx.options.inputs;
    popts.input_files = ctx.options.input_files;
    popts.bind_inputs = false;
    auto prepared = rt.prepare(runtime::workflow_source{ctx.options.workflow, {}, {}}, popts);
    if (!prepared)
    {
        print_problems(ctx, prepared.error());
        return std::nullopt;
    }
    return std::move(*prepared);
}

// Problems that do not stop a run (a model outside the catalogue, a broken persona the workflow
// does not use), as `--explain` shows them: warning: FILE:LINE:COL: …
void print_warnings(cli_context& ctx, const runtime::prepared_workflow& prepared)
{
    for (const auto& w : prepared.routing.warnings.items())
        ctx.err << "warning: " << w.str() << "\n";
}

int validate_mode(cli_context& ctx)
{
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, ctx.env));
    auto prepared = prepare_for_inspection(ctx, rt);
    if (!prepared)
        return 2;
    print_warnings(ctx, *prepared);
    ctx.out << ctx.options.workflow << ": ok (workflow '" << prepared->spec.name << "', "
            << prepared->graph.size() << " phases in " << prepared->graph.levels().size() << " levels)\n";
    return 0;
}

int graph_mode(cli_context& ctx)
{
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, ctx.env));
    auto prepared = prepare_for_inspection(ctx, rt);
    if (!prepared)
        return 2;
    engine::write_graph(ctx.out, prepared->spec, prepared->graph,
                        ctx.options.format == "dot" ? engine::graph_format::dot : engine::graph_format::mermaid);
    return 0;
}

int explain_mode(cli_context& ctx)
{
    // With --emulate every provider is served by the emulator: explain that run (no emulator
    // is started; the address only makes the providers available).
    const ep::environment env = ctx.options.emulate ? emulated_environment(ctx.env, "http://127.0.0.1") : ctx.env;
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, env));
    auto prepared = prepare_for_inspection(ctx, rt);
    if (!prepared)
        return 2;
    const auto explanation = rt.explain(*prepared);  // prints the warnings with the routes
    engine::write_routing_explanation(ctx.out, explanation);
    // An unroutable persona is an input error: the explanation above names what to set.
    return explanation.all_routable() ? 0 : 2;
}

std::filesystem::path executable_path(const std::vector<std::string>& args)
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec)
        return self;
    return args.empty() ? std::filesystem::path{} : std::filesystem::absolute(args[0], ec);
}

}  // namespace

namespace {

// Flag values that select the mode or need checking after parsing.
struct raw_flags
{
    bool validate = false, graph = false, explain = false, list = false, version = false;
    std::string resume, show, fork, personas, models;
    std::vector<std::string> approve, reject;
    CLI::Option* format = nullptr;
    CLI::Option* config = nullptr;
    CLI::Option* comment = nullptr;
    CLI::Option* from = nullptr;
    CLI::Option* max_cost = nullptr;
    CLI::Option* iteration = nullptr;
    CLI::Option* item = nullptr;
    CLI::Option* workspace = nullptr;
    CLI::Option* git = nullptr;
    CLI::Option* allow_dirty = nullptr;
    CLI::Option* report = nullptr;
};

void add_mode_flags(CLI::App& app, cli_options& o, raw_flags& f)
{
    app.add_option("workflow", o.workflow, "The workflow file (WORKFLOW.yaml)");
    app.add_flag("--validate", f.validate, "Check the workflow; print every error as FILE:LINE:COL");
    app.add_flag("--graph", f.graph, "Print the workflow's DAG (personas on the nodes)");
    app.add_flag("--explain", f.explain, "Print the phases in run order with their routing (calls no provider)");
    app.add_flag("--list", f.list, "List the runs in the store");
    app.add_option("--resume", f.resume, "Resume the run RUN_ID");
    app.add_option("--show", f.show, "Show the run RUN_ID");
    app.add_option("--approve", f.approve, "Approve the gate PHASE of RUN_ID and continue the run")->expected(2);
    app.add_option("--reject", f.reject, "Reject the gate PHASE of RUN_ID and continue the run")->expected(2);
    app.add_option("--fork", f.fork, "Start a new run from RUN_ID (with --from PHASE)");
    app.add_option("--models", f.models, "List PROVIDER's models from its own list endpoint (marked: in the catalogue)");
    app.add_flag("--version", f.version, "Print the version");
}

void add_option_flags(CLI::App& app, cli_options& o, raw_flags& f)
{
    app.add_option("--output", o.output_phase, "With --show: print this phase's output");
    f.iteration = app.add_option("--iteration", o.iteration, "With --show --output: the loop pass (default: the last)");
    f.item = app.add_option("--item", o.item, "With --show --output: the fan-out item (0-based)");
    f.format = app.add_option("--format", o.format, "With --graph: mermaid (default) or dot")
                   ->check(CLI::IsMember({"mermaid", "dot"}));
    f.config = app.add_option("--config", o.config, "Provider mix: A, B, C, D, E or a mix file (default A)");
    // One value per occurrence, so `--input a=1 WORKFLOW.yaml` leaves the workflow positional.
    app.add_option("--input", o.inputs, "Input value KEY=VALUE (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--input-file", o.input_files, "Input from a file KEY=PATH (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    f.comment = app.add_option("--comment", o.comment, "With --approve/--reject: why");
    f.from = app.add_option("--from", o.from_phase, "With --fork: the phase to run again (and all after it)");
    f.max_cost = app.add_option("--max-cost", o.max_cost, "The run's cost limit in USD (over the workflow's budget)")
                     ->check(CLI::NonNegativeNumber);
    app.add_option("--db", o.db, "Run store: a path, sqlite:PATH or postgres://… (default $EP_DB, else ./.ep/runs.db)");
    app.add_flag("--json", o.json, "Write JSON events, one per line, to stdout");
    app.add_flag("--emulate", o.emulate, "Use the built-in provider emulator (no API keys needed)");
    app.add_flag("--quiet", o.quiet, "Print nothing on stderr but errors");
    app.add_flag("--fail-fast", o.fail_fast, "Stop the run at the first failed phase");
    app.add_flag("--detach", o.detach,
                 "Submit the run to the ep-workers of a PostgreSQL store (--db postgres://…), print its id, exit");
    app.add_option("--durability", o.durability, "Checkpoint durability: normal (default) or full")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--personas", f.personas, "Use this personas file instead of the shipped one");
    f.workspace = app.add_option("--workspace", o.workspace,
                                 "Where the run acts on files (default ./.ep/workspaces/RUN_ID; '.' is this checkout)");
    f.git = app.add_flag("--git", o.git, "Commit each phase's changes on branch ep/RUN_ID (as `git: true`)");
    f.allow_dirty = app.add_flag("--allow-dirty", o.allow_dirty, "With git: accept uncommitted changes in the workspace");
    f.report = app.add_option("--report", o.reports, "Write a quality report: junit=FILE or json=FILE (repeatable)");
}

// The one mode the flags select; an error message when several are combined.
std::optional<std::string> select_mode(const raw_flags& f, cli_options& o, const char*& name)
{
    std::vector<std::pair<cli_mode, const char*>> modes;
    if (f.validate) modes.emplace_back(cli_mode::validate, "--validate");
    if (f.graph) modes.emplace_back(cli_mode::graph, "--graph");
    if (f.explain) modes.emplace_back(cli_mode::explain, "--explain");
    if (f.list) modes.emplace_back(cli_mode::list, "--list");
    if (!f.resume.empty()) modes.emplace_back(cli_mode::resume, "--resume");
    if (!f.show.empty()) modes.emplace_back(cli_mode::show, "--show");
    if (!f.approve.empty()) modes.emplace_back(cli_mode::approve, "--approve");
    if (!f.reject.empty()) modes.emplace_back(cli_mode::reject, "--reject");
    if (!f.fork.empty()) modes.emplace_back(cli_mode::fork, "--fork");
    if (!f.models.empty()) modes.emplace_back(cli_mode::models, "--models");
    if (modes.size() > 1)
        return std::string(modes[0].second) + " and " + modes[1].second + " cannot be combined";
    o.mode = modes.empty() ? cli_mode::run : modes[0].first;
    name = modes.empty() ? "run" : modes[0].second;
    o.provider = f.models;
    const auto& pair = !f.approve.empty() ? f.approve : f.reject;
    o.run_id = !f.resume.empty() ? f.resume : !f.show.empty() ? f.show : !f.fork.empty() ? f.fork : "";
    if (pair.size() == 2)
    {
        o.run_id = pair[0];
        o.phase = pair[1];
    }
    return std::nullopt;
}

// Flags given where they have no meaning are errors, not silently ignored.
std::optional<std::string> check_combinations(const cli_options& o, const raw_flags& f, const char* mode_name)
{
    const auto m = o.mode;
    const bool takes_workflow = m == cli_mode::run || m == cli_mode::validate || m == cli_mode::graph ||
                                m == cli_mode::explain;
    if (takes_workflow && o.workflow.empty())
        return std::string("missing WORKFLOW.yaml (see ep-run --help)");
    if (!takes_workflow && !o.workflow.empty())
        return std::string(mode_name) + " takes no workflow file (got '" + o.workflow + "')";
    if (f.format->count() > 0 && m != cli_mode::graph)
        return std::string("--format is only used with --graph");
    if (!o.output_phase.empty() && m != cli_mode::show)
        return std::string("--output is only used with --show");
    if ((f.iteration->count() > 0 || f.item->count() > 0) && o.output_phase.empty())
        return std::string("--iteration and --item are only used with --show --output PHASE");
    if (f.comment->count() > 0 && m != cli_mode::approve && m != cli_mode::reject)
        return std::string("--comment is only used with --approve or --reject");
    if ((f.from->count() > 0) != (m == cli_mode::fork))
        return m == cli_mode::fork ? std::string("--fork needs --from PHASE") : std::string("--from is only used with --fork");
    const bool runs = m == cli_mode::run || m == cli_mode::resume || m == cli_mode::approve ||
                      m == cli_mode::reject || m == cli_mode::fork;
    if (o.detach && m != cli_mode::run)
        return std::string("--detach is only used when submitting a workflow (ep-run WORKFLOW --detach)");
    if (o.detach && (o.emulate || o.fail_fast))
        return std::string("--detach cannot be combined with ") + (o.emulate ? "--emulate" : "--fail-fast") +
               " (the run is executed by an ep-worker, with the worker's providers and settings)";
    if (f.max_cost->count() > 0 && !runs)
        return std::string("--max-cost is only used when a run runs (a workflow, --resume, --approve, --reject, --fork)");
    for (auto* opt : {f.workspace, f.git, f.allow_dirty, f.report})
        if (opt->count() > 0 && !runs)
            return opt->get_name() + " is only used when a run runs (a workflow, --resume, --approve, --reject, --fork)";
    for (const auto& r : o.reports)
        if (auto target = engine::parse_report_option(r); !target)
            return target.error().str();  // names the value and what is wrong with it
    return std::nullopt;
}

int dispatch(cli_context& ctx, const cli_handlers& handlers)
{
    auto call = [&](const cli_handler& h, const char* name) { return h ? h(ctx) : no_handler(ctx, name); };
    switch (ctx.options.mode)
    {
    case cli_mode::validate: return validate_mode(ctx);
    case cli_mode::graph: return graph_mode(ctx);
    case cli_mode::explain: return explain_mode(ctx);
    case cli_mode::run: return call(handlers.run, "running a workflow");
    case cli_mode::resume: return call(handlers.resume, "--resume");
    case cli_mode::list: return call(handlers.list, "--list");
    case cli_mode::show: return call(handlers.show, "--show");
    case cli_mode::approve:
    case cli_mode::reject: return call(handlers.approve, "--approve/--reject");
    case cli_mode::fork: return call(handlers.fork, "--fork");
    case cli_mode::models: return models_command(ctx);
    }
    return 2;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const ep::environment& env,
            const cli_handlers& handlers)
{
    cli_options o;
    raw_flags f;
    CLI::App app{description, "ep-run"};
    app.get_formatter()->column_width(34);
    add_mode_flags(app, o, f);
    add_option_flags(app, o, f);
    std::vector<char*> argv;
    std::vector<std::string> storage = args.empty() ? std::vector<std::string>{"ep-run"} : args;
    for (auto& a : storage)
        argv.push_back(a.data());
    try
    {
        app.parse(static_cast<int>(argv.size()), argv.data());
    }
    catch (const CLI::CallForHelp&)
    {
        out << app.help();
        return 0;
    }
    catch (const CLI::ParseError& e)
    {
        err << "ep-run: " << e.what() << " (see ep-run --help)\n";
        return 2;
    }
    if (f.version)
    {
        out << "ep-run 0.1.0\n";
        return 0;
    }
    o.config_given = f.config->count() > 0;
    if (!f.personas.empty())
        o.personas_file = f.personas;
    const char* mode_name = "run";
    auto problem = select_mode(f, o, mode_name);
    if (!problem)
        problem = check_combinations(o, f, mode_name);
    if (problem)
    {
        err << "ep-run: " << *problem << "\n";
        return 2;
    }
    cli_context ctx{o, out, err, env, engine::find_workflows_dir(env, executable_path(args))};
    return dispatch(ctx, handlers);
}

int run_cli(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    auto env = ep::environment::load();
    return run_cli(args, std::cout, std::cerr, env);
}

}  // namespace ep::cli
