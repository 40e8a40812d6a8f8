// The ep-run command line: flags (CLI11) -> cli_options -> one mode handler.
#include <ep/cli/cli.hpp>
#include <ep/cli/commands.hpp>
#include <ep/engine/graph.hpp>
#include <ep/engine/router.hpp>

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
  ep-run --resume RUN_ID | --list | --show RUN_ID [--output PHASE]

Credentials come from EP_OPENAI_API_KEY, EP_ANTHROPIC_API_KEY, EP_GEMINI_API_KEY (or a base URL:
EP_*_BASE_URL; EP_CLAUDE_CLI for the Claude Code CLI); ./.env is read too.
Exit codes: 0 ok, 1 run failed (resumable), 2 invalid input, 130 interrupted.)";

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

int validate_mode(cli_context& ctx)
{
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, ctx.env));
    auto prepared = prepare_for_inspection(ctx, rt);
    if (!prepared)
        return 2;
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
    const auto explanation = rt.explain(*prepared);
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

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const ep::environment& env,
            const cli_handlers& handlers)
{
    cli_options o;
    CLI::App app{description, "ep-run"};
    app.get_formatter()->column_width(34);

    bool validate = false, graph = false, explain = false, list = false, version = false;
    std::string resume, show, personas;
    app.add_option("workflow", o.workflow, "The workflow file (WORKFLOW.yaml)");
    app.add_flag("--validate", validate, "Check the workflow; print every error as FILE:LINE:COL");
    app.add_flag("--graph", graph, "Print the workflow's DAG (personas on the nodes)");
    app.add_flag("--explain", explain, "Print the phases in run order with their routing (calls no provider)");
    app.add_flag("--list", list, "List the runs in the store");
    app.add_option("--resume", resume, "Resume the run RUN_ID");
    app.add_option("--show", show, "Show the run RUN_ID");
    app.add_option("--output", o.output_phase, "With --show: print this phase's output");
    auto* format = app.add_option("--format", o.format, "With --graph: mermaid (default) or dot")
                       ->check(CLI::IsMember({"mermaid", "dot"}));
    auto* config = app.add_option("--config", o.config, "Provider mix: A, B, C, D, E or a mix file (default A)");
    // One value per occurrence, so `--input a=1 WORKFLOW.yaml` leaves the workflow positional.
    app.add_option("--input", o.inputs, "Input value KEY=VALUE (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--input-file", o.input_files, "Input from a file KEY=PATH (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--db", o.db, "Run store (default $EP_DB, else ./.ep/runs.db)");
    app.add_flag("--json", o.json, "Write JSON events, one per line, to stdout");
    app.add_flag("--emulate", o.emulate, "Use the built-in provider emulator (no API keys needed)");
    app.add_flag("--quiet", o.quiet, "No progress on stderr");
    app.add_flag("--fail-fast", o.fail_fast, "Stop the run at the first failed phase");
    app.add_option("--durability", o.durability, "Checkpoint durability: normal (default) or full")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--personas", personas, "Use this personas file instead of the shipped one");
    app.add_flag("--version", version, "Print the version");

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
    if (version)
    {
        out << "ep-run 0.1.0\n";
        return 0;
    }
    o.config_given = config->count() > 0;
    if (!personas.empty())
        o.personas_file = personas;

    std::vector<std::pair<cli_mode, const char*>> modes;
    if (validate) modes.emplace_back(cli_mode::validate, "--validate");
    if (graph) modes.emplace_back(cli_mode::graph, "--graph");
    if (explain) modes.emplace_back(cli_mode::explain, "--explain");
    if (list) modes.emplace_back(cli_mode::list, "--list");
    if (!resume.empty()) modes.emplace_back(cli_mode::resume, "--resume");
    if (!show.empty()) modes.emplace_back(cli_mode::show, "--show");
    if (modes.size() > 1)
    {
        err << "ep-run: " << modes[0].second << " and " << modes[1].second << " cannot be combined\n";
        return 2;
    }
    o.mode = modes.empty() ? cli_mode::run : modes[0].first;
    o.run_id = !resume.empty() ? resume : show;
    const char* mode_name = modes.empty() ? "run" : modes[0].second;

    const bool takes_workflow = o.mode == cli_mode::run || o.mode == cli_mode::validate || o.mode == cli_mode::graph ||
                                o.mode == cli_mode::explain;
    if (takes_workflow && o.workflow.empty())
    {
        err << "ep-run: missing WORKFLOW.yaml (see ep-run --help)\n";
        return 2;
    }
    if (!takes_workflow && !o.workflow.empty())
    {
        err << "ep-run: " << mode_name << " takes no workflow file (got '" << o.workflow << "')\n";
        return 2;
    }
    if (format->count() > 0 && o.mode != cli_mode::graph)
    {
        err << "ep-run: --format is only used with --graph\n";
        return 2;
    }
    if (!o.output_phase.empty() && o.mode != cli_mode::show)
    {
        err << "ep-run: --output is only used with --show\n";
        return 2;
    }

    cli_context ctx{o, out, err, env, engine::find_workflows_dir(env, executable_path(args))};
    auto dispatch = [&](const cli_handler& h, const char* name) { return h ? h(ctx) : no_handler(ctx, name); };
    switch (o.mode)
    {
    case cli_mode::validate: return validate_mode(ctx);
    case cli_mode::graph: return graph_mode(ctx);
    case cli_mode::explain: return explain_mode(ctx);
    case cli_mode::run: return dispatch(handlers.run, "running a workflow");
    case cli_mode::resume: return dispatch(handlers.resume, "--resume");
    case cli_mode::list: return dispatch(handlers.list, "--list");
    case cli_mode::show: return dispatch(handlers.show, "--show");
    }
    return 2;
}

int run_cli(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    auto env = ep::environment::load();
    return run_cli(args, std::cout, std::cerr, env);
}

}  // namespace ep::cli
