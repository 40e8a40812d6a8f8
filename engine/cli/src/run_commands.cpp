// `ep-run WORKFLOW` and `ep-run --resume`: flags to a runtime, the run's event sinks (JSON
// lines, the terminal view), signals, and exit codes. The wiring itself is the runtime's.
#include <ep/cli/commands.hpp>
#include <ep/cli/console.hpp>
#include <ep/cli/emulate.hpp>
#include <ep/engine/run/event_loop.hpp>
#include <ep/engine/workspace/report.hpp>
#include <ep/thread_signals.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace ep::cli {

namespace ps = ep::persistence;

runtime::runtime_config runtime_config_for(const cli_context& ctx, const ep::environment& env)
{
    runtime::runtime_config cfg;
    cfg.env = env;
    cfg.workflows_dir = ctx.workflows_dir;
    cfg.personas_file = ctx.options.personas_file;
    cfg.store = ctx.options.db;
    cfg.durability = ctx.options.durability == "full" ? ps::durability::full : ps::durability::normal;
    cfg.program = "ep-run";
    return cfg;
}

int exit_code_for(const runtime::runtime_error& e)
{
    using runtime::runtime_errc;
    if (e.code == runtime_errc::already_completed)
        return 0;
    if (e.code == runtime_errc::store_failed)
        return 1;
    return 2;
}

void print_problems(cli_context& ctx, const runtime::runtime_error& e)
{
    if (e.details.empty())
    {
        ctx.err << "ep-run: " << e.message << "\n";
        return;
    }
    ctx.err << e.details.diag.str();
    // An unroutable phase is the workflow's problem: named after its file, like the YAML ones.
    const bool unroutable = e.code == runtime::runtime_errc::unroutable;
    const std::string prefix = unroutable && !ctx.options.workflow.empty() ? ctx.options.workflow + ": " : "ep-run: ";
    for (const auto& m : e.details.input_errors)
        ctx.err << prefix << m << "\n";
    if (unroutable && !ctx.options.workflow.empty())
        ctx.err << "ep-run: not started (see `ep-run --explain " << ctx.options.workflow << "`)\n";
}

namespace {

// The event sinks of a run: --json lines on stdout, the terminal view on stderr.
struct run_sinks
{
    engine::multi_sink all;
    std::unique_ptr<engine::event_sink> json;
    std::unique_ptr<engine::event_sink> console;
};

void add_sinks(run_sinks& s, cli_context& ctx, const std::vector<std::string>& phase_ids)
{
    const auto& o = ctx.options;
    if (o.json)
    {
        s.json = engine::make_json_lines_sink(ctx.out);
        s.all.add(s.json.get());
    }
    console_options copts;
    copts.quiet = o.quiet;
    copts.tty = &ctx.err == &std::cerr && ::isatty(STDERR_FILENO) == 1 && !o.json;
    copts.phases = phase_ids;
    copts.resume_command = "ep-run --resume {run_id}";
    if (!o.db.empty())
        copts.resume_command += " --db " + o.db;
    if (o.emulate)
        copts.resume_command += " --emulate";
    s.console = make_console_sink(ctx.err, std::move(copts));
    s.all.add(s.console.get());
}

// SIGINT/SIGTERM: the first stops the run gracefully (in-flight phases recorded as cancelled),
// a second exits at once (the store is consistent either way).
struct stop_on_signals
{
    stop_on_signals(asio::io_context& ioc, cli_context& ctx, engine::run_control& control)
        : signals(ioc, SIGINT, SIGTERM), ctx(ctx), control(control)
    {
        arm();
    }
    void arm()
    {
        signals.async_wait([this](boost::system::error_code ec, int) {
            if (ec)
                return;
            if (++count >= 2)
                std::_Exit(130);
            ctx.err << "\nep-run: stopping (in-flight phases are cancelled and recorded; again to quit now)\n";
            control.request_stop();
            arm();
        });
    }
    void disarm()
    {
        // Once the signal_set is gone a signal has its default action again; a second Ctrl-C that
        // arrives that late must not turn the exit code 130 this stop already chose into death by
        // signal, so it stays pending instead.
        if (count > 0)
            ep::block_stop_signals_on_this_thread();
        boost::system::error_code ignored;
        signals.cancel(ignored);
    }

    asio::signal_set signals;
    cli_context& ctx;
    engine::run_control& control;
    int count = 0;
};

// The commands that decide a waiting gate, exactly as to type them.
void print_gate_commands(cli_context& ctx, const engine::run_outcome& outcome)
{
    std::string db = ctx.options.db.empty() ? "" : " --db " + ctx.options.db;
    if (ctx.options.emulate)
        db += " --emulate";
    for (const auto& gate : outcome.waiting)
        ctx.err << "ep-run: run " << outcome.run_id << " is waiting for an approval of '" << gate << "'\n"
                << "  approve: ep-run --approve " << outcome.run_id << " " << gate << db << " [--comment TEXT]\n"
                << "  reject:  ep-run --reject " << outcome.run_id << " " << gate << db << " --comment TEXT\n";
}

int exit_code_of_run(cli_context& ctx, const engine::run_outcome& outcome)
{
    switch (outcome.status)
    {
    case ps::run_status::completed: return 0;
    case ps::run_status::interrupted: return 130;
    case ps::run_status::waiting: print_gate_commands(ctx, outcome); return 3;
    default: return 1;
    }
}

// Runs `operation` (runtime::run or runtime::resume) on `ioc` with signals and sinks.
// `--report junit=FILE|json=FILE`: the run's reports, from what the store holds.
int write_reports(cli_context& ctx, runtime::runtime& rt, const std::string& run_id, int code)
{
    if (ctx.options.reports.empty() || run_id.empty())
        return code;
    auto details = rt.show(run_id);
    if (!details)
    {
        ctx.err << "ep-run: cannot write the report: " << details.error().message << "\n";
        return code == 0 ? 1 : code;
    }
    engine::report_input in;
    in.run = details->run;
    in.phases = details->phases;
    in.attempts = details->attempts;
    runtime::prepare_options popts;
    popts.bind_inputs = false;
    popts.config = details->run.mix.empty() ? "A" : details->run.mix;
    auto wf = rt.prepare(runtime::workflow_source{{}, details->run.definition, details->run.workflow + ".yaml"}, popts);
    if (wf)
        for (const auto& p : wf->spec.phases)
            if (p.kind == engine::phase_kind::command)
                in.command_phases.insert(p.id);
    for (const auto& r : ctx.options.reports)
    {
        auto target = engine::parse_report_option(r);
        if (!target)
            continue;  // checked when the flags were parsed
        if (auto w = engine::write_report_file(target->path, engine::render_report(in, target->format)); !w)
        {
            ctx.err << "ep-run: cannot write the report: " << w.error().str() << "\n";
            code = code == 0 ? 1 : code;
        }
    }
    return code;
}

template <class Operation>
int drive(asio::io_context& ioc, const runtime::runtime& rt, cli_context& ctx, run_sinks& sinks, emulator_handle* emu,
          Operation operation, std::string* run_id = nullptr)
{
    engine::run_control control;
    stop_on_signals stop(ioc, ctx, control);
    std::optional<runtime::result<engine::run_outcome>> result;
    std::exception_ptr failure;
    asio::co_spawn(ioc, operation(sinks.all, control),
                   [&](std::exception_ptr e, runtime::result<engine::run_outcome> r) {
                       failure = e;
                       if (!e)
                           result.emplace(std::move(r));
                       stop.disarm();
                       if (emu)
                           emu->stop();
                   });
    engine::run_event_loop(ioc, [&rt] { return rt.store_call_in_flight(); });
    if (failure)
        std::rethrow_exception(failure);
    if (!result)
        return 1;
    if (!*result)
    {
        print_problems(ctx, result->error());
        return exit_code_for(result->error());
    }
    if (run_id)
        *run_id = (*result)->run_id;
    return exit_code_of_run(ctx, **result);
}

// `--detach`: the run is stored pending for the workers; only its id goes to stdout.
int submit_detached(cli_context& ctx, runtime::runtime& rt, const runtime::prepared_workflow& workflow)
{
    const auto where = ps::parse_store_uri(rt.store_location());
    if (where && where->backend != ps::store_location::backend_kind::postgres)
    {
        ctx.err << "ep-run: --detach leaves the run to ep-worker processes, which share a PostgreSQL store "
                   "(--db postgres://…); "
                << ps::redact_store_uri(rt.store_location()) << " is a SQLite file\n";
        return 2;
    }
    auto id = rt.submit(workflow, run_options_for(ctx));
    if (!id)
    {
        print_problems(ctx, id.error());
        return exit_code_for(id.error());
    }
    ctx.out << *id << "\n";
    if (!ctx.options.quiet)
        ctx.err << "ep-run: submitted run " << *id << " to the workers of " << ps::redact_store_uri(rt.store_location())
                << " (follow it with ep-run --show " << *id << ")\n";
    return 0;
}

}  // namespace

int run_workflow_command(cli_context& ctx)
{
    asio::io_context ioc;
    auto emu = ctx.options.emulate ? start_emulator(ioc, ctx) : nullptr;
    const ep::environment env = emu ? emulated_environment(ctx.env, emu->base_url()) : ctx.env;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, env));
    runtime::prepare_options popts;
    popts.config = ctx.options.config;
    popts.inputs = ctx.options.inputs;
    popts.input_files = ctx.options.input_files;
    auto prepared = rt.prepare(runtime::workflow_source{ctx.options.workflow, {}, {}}, popts);
    if (!prepared)
    {
        print_problems(ctx, prepared.error());
        return 2;
    }
    if (ctx.options.detach)
        return submit_detached(ctx, rt, *prepared);
    auto workflow = std::make_shared<const runtime::prepared_workflow>(std::move(*prepared));
    std::vector<std::string> ids;
    for (const auto& p : workflow->spec.phases)
        ids.push_back(p.id);
    run_sinks sinks;
    add_sinks(sinks, ctx, ids);
    const auto ropts = run_options_for(ctx);
    std::string run_id;
    const int code = drive(ioc, rt, ctx, sinks, emu.get(), [&](engine::event_sink& sink, engine::run_control& control) {
        return rt.run(workflow, sink, &control, ropts);
    }, &run_id);
    return write_reports(ctx, rt, run_id, code);
}

namespace {

// resume, approve/reject and fork: a run that continues from the store.
template <class Operation>
int continue_run(cli_context& ctx, Operation operation)
{
    asio::io_context ioc;
    auto emu = ctx.options.emulate ? start_emulator(ioc, ctx) : nullptr;
    const ep::environment env = emu ? emulated_environment(ctx.env, emu->base_url()) : ctx.env;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, env));
    run_sinks sinks;
    add_sinks(sinks, ctx, {});
    const auto ropts = run_options_for(ctx);
    std::string run_id;
    const int code = drive(ioc, rt, ctx, sinks, emu.get(), [&](engine::event_sink& sink, engine::run_control& control) {
        return operation(rt, sink, control, ropts);
    }, &run_id);
    return write_reports(ctx, rt, run_id, code);
}

std::string current_user(const ep::environment& env)
{
    if (auto u = env.get("USER"))
        return *u;
    if (auto u = env.get("LOGNAME"))
        return *u;
    return "unknown";
}

}  // namespace

runtime::run_options run_options_for(const cli_context& ctx)
{
    runtime::run_options ropts;
    ropts.fail_fast = ctx.options.fail_fast;
    ropts.max_cost_usd = ctx.options.max_cost;
    ropts.workspace.dir = ctx.options.workspace;
    if (ctx.options.git)
        ropts.workspace.git = true;
    ropts.workspace.allow_dirty = ctx.options.allow_dirty;
    if (ctx.options.mode != cli_mode::run && ctx.options.config_given)
        ropts.config = ctx.options.config;
    return ropts;
}

int resume_command(cli_context& ctx)
{
    return continue_run(ctx, [&](runtime::runtime& rt, engine::event_sink& sink, engine::run_control& control,
                                 const runtime::run_options& ropts) {
        return rt.resume(ctx.options.run_id, sink, &control, ropts);
    });
}

int approve_command(cli_context& ctx)
{
    engine::approval_decision decision;
    decision.phase = ctx.options.phase;
    decision.approved = ctx.options.mode == cli_mode::approve;
    decision.comment = ctx.options.comment;
    decision.by = current_user(ctx.env);
    return continue_run(ctx, [&](runtime::runtime& rt, engine::event_sink& sink, engine::run_control& control,
                                 const runtime::run_options& ropts) {
        return rt.approve(ctx.options.run_id, decision, sink, &control, ropts);
    });
}

int fork_command(cli_context& ctx)
{
    runtime::fork_options fork;
    fork.from_phase = ctx.options.from_phase;
    fork.inputs = ctx.options.inputs;
    return continue_run(ctx, [&](runtime::runtime& rt, engine::event_sink& sink, engine::run_control& control,
                                 const runtime::run_options& ropts) {
        return rt.fork(ctx.options.run_id, fork, sink, &control, ropts);
    });
}

cli_handlers run_cli_handlers()
{
    cli_handlers h;
    h.run = run_workflow_command;
    h.resume = resume_command;
    h.list = list_command;
    h.show = show_command;
    h.approve = approve_command;
    h.fork = fork_command;
    return h;
}

cli_handlers default_cli_handlers()
{
    return run_cli_handlers();
}

}  // namespace ep::cli
