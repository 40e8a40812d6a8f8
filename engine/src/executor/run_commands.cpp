// `ep-run WORKFLOW` and `ep-run --resume`: wiring (store, providers, emulator, sinks, signals)
// around workflow_executor. No business logic beyond choosing exit codes.
#include <ep/engine/run/commands.hpp>
#include <ep/engine/run/event_loop.hpp>
#include <ep/engine/run/executor.hpp>
#include <ep/engine/error.hpp>
#include <ep/engine/loader.hpp>
#include <ep/engine/router.hpp>
#include <ep/engine/routing/rate_limiter.hpp>
#include <ep/engine/routing/time_source.hpp>

#include <ep/emulator/emulator.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>
#include <ep/providers/factory.hpp>
#include <ep/thread_signals.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <spdlog/logger.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace ep::engine {

namespace ps = ep::persistence;

std::filesystem::path resolve_db_path(const cli_options& options, const ep::environment& env)
{
    if (!options.db.empty())
        return options.db;
    if (auto v = env.get("EP_DB"))
        return *v;
    return std::filesystem::path(".ep") / "runs.db";
}

ep::environment emulated_environment(const ep::environment& env, const std::string& base_url)
{
    ep::environment out = env;
    out.set("EP_OPENAI_BASE_URL", base_url + "/v1");
    out.set("EP_ANTHROPIC_BASE_URL", base_url);
    out.set("EP_GEMINI_BASE_URL", base_url + "/v1beta");
    // Dummy credentials: the emulator accepts any; real keys must never be sent to it.
    out.set("EP_OPENAI_API_KEY", "emulated-key");
    out.set("EP_ANTHROPIC_API_KEY", "emulated-key");
    out.set("EP_GEMINI_API_KEY", "emulated-key");
    return out;
}

namespace {

int exit_code_for_store_error(const ps::store_error& e)
{
    using ps::persistence_errc;
    if (e.code == persistence_errc::not_found || e.code == persistence_errc::lease_held ||
        e.code == persistence_errc::schema_too_new || e.code == persistence_errc::corrupt ||
        e.code == persistence_errc::read_only || e.code == persistence_errc::invalid_state)
        return 2;
    return 1;
}

std::optional<std::chrono::milliseconds> env_timeout(const ep::environment& env)
{
    if (auto v = env.get("EP_TIMEOUT"))
    {
        char* end = nullptr;
        const double secs = std::strtod(v->c_str(), &end);
        if (end && *end == '\0' && secs > 0)
            return std::chrono::milliseconds(static_cast<std::int64_t>(secs * 1000));
    }
    return std::nullopt;
}

double env_number(const ep::environment& env, const char* name, double fallback)
{
    if (auto v = env.get(name))
    {
        char* end = nullptr;
        const double d = std::strtod(v->c_str(), &end);
        if (end && *end == '\0' && d >= 0)
            return d;
    }
    return fallback;
}

// The emulator for --emulate, on the run's io_context. Pacing knobs (development only):
// EP_EMULATOR_FIRST_TOKEN_MS, EP_EMULATOR_TOKENS_PER_SECOND (0 = no pacing).
std::unique_ptr<emulator::emulator> start_emulator(asio::io_context& ioc, const ep::environment& env)
{
    emulator::emulator_config cfg;
    cfg.time_to_first_token =
        std::chrono::milliseconds(static_cast<std::int64_t>(env_number(env, "EP_EMULATOR_FIRST_TOKEN_MS", 250)));
    cfg.tokens_per_second = env_number(env, "EP_EMULATOR_TOKENS_PER_SECOND", 60);
    cfg.zero_latency = cfg.tokens_per_second == 0;
    if (cfg.zero_latency)
        cfg.tokens_per_second = 60;
    auto emu = std::make_unique<emulator::emulator>(ioc.get_executor(), cfg);
    emu->start();
    return emu;
}

struct session_inputs
{
    const workflow_spec* spec = nullptr;
    const dag* graph = nullptr;
    const policy* routing = nullptr;
    run_request request;
};

// Opens the store, builds providers and the executor, runs to the end with signal handling.
int run_session(cli_context& ctx, asio::io_context& ioc, session_inputs in, emulator::emulator* emu)
{
    const auto& o = ctx.options;
    const auto db = resolve_db_path(o, ctx.env);
    ps::sqlite_options sopts;
    sopts.sync = o.durability == "full" ? ps::durability::full : ps::durability::normal;
    auto opened = ps::sqlite_store::open(db, sopts);
    if (!opened)
    {
        ctx.err << "ep-run: " << opened.error().to_string() << "\n";
        return exit_code_for_store_error(opened.error());
    }
    auto store = std::make_unique<ps::async_store>(std::shared_ptr<ps::store>(std::move(*opened)));

    provider_map providers;
    try
    {
        for (const auto& [name, cfg] : in.routing->providers)
            if (cfg.available)
                providers[name] = providers::make_provider(ioc.get_executor(), cfg);
    }
    catch (const std::invalid_argument& e)
    {
        ctx.err << "ep-run: " << e.what() << "\n";
        return 2;
    }

    failover_options fopts;
    fopts.time = make_steady_time_source();
    for (const auto& [name, limit] : in.routing->limits)
        if (limit.any())
        {
            if (!fopts.limits)
                fopts.limits = std::make_shared<provider_limits>(fopts.time);
            fopts.limits->configure(name, limit);
        }
    failover_executor failover(fopts);
    executor_options eopts;
    eopts.fail_fast = o.fail_fast;
    if (auto t = env_timeout(ctx.env))
        eopts.default_phase_timeout = *t;
    const policy& pol = *in.routing;
    const router routes = router::from_environment(pol, ctx.env);
    workflow_executor exec(
        *store, pol,
        [&](const phase_spec& ph, std::int64_t tokens) { return build_candidates(ph, routes, providers, tokens); },
        failover, eopts);

    multi_sink sinks;
    std::unique_ptr<event_sink> json_sink, console;
    if (o.json)
    {
        json_sink = make_json_lines_sink(ctx.out);
        sinks.add(json_sink.get());
    }
    console_options copts;
    copts.quiet = o.quiet;
    copts.tty = &ctx.err == &std::cerr && ::isatty(STDERR_FILENO) == 1 && !o.json;
    for (const auto& p : in.spec->phases)
        copts.phases.push_back(p.id);
    copts.resume_command = "ep-run --resume {run_id}";
    if (!o.db.empty())
        copts.resume_command += " --db " + o.db;
    if (o.emulate)
        copts.resume_command += " --emulate";
    console = make_console_sink(ctx.err, copts);
    sinks.add(console.get());

    run_control control;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    int signal_count = 0;
    std::function<void()> arm = [&] {
        signals.async_wait([&](boost::system::error_code ec, int) {
            if (ec)
                return;
            if (++signal_count >= 2)
                std::_Exit(130);  // the second signal: stop at once, the store is consistent anyway
            ctx.err << "\nep-run: stopping (in-flight phases are cancelled and recorded; again to quit now)\n";
            control.request_stop();
            arm();
        });
    };
    arm();

    std::optional<ps::result<run_outcome>> result;
    std::exception_ptr failure;
    asio::co_spawn(ioc, exec.run(std::move(in.request), sinks, &control),
                   [&](std::exception_ptr e, ps::result<run_outcome> r) {
                       failure = e;
                       if (!e)
                           result.emplace(std::move(r));
                       // Once the signal_set is gone a signal has its default action again; a
                       // second Ctrl-C that arrives that late must not turn the exit code 130 this
                       // stop already chose into death by signal, so it stays pending instead.
                       if (signal_count > 0)
                           ep::block_stop_signals_on_this_thread();
                       boost::system::error_code ignored;
                       signals.cancel(ignored);
                       if (emu)
                           emu->stop();
                   });
    run_event_loop(ioc);
    if (failure)
        std::rethrow_exception(failure);
    if (!result)
        return 1;
    if (!*result)
    {
        const auto& e = result->error();
        if (e.code == ps::persistence_errc::lease_held)
            ctx.err << "ep-run: the run is being executed by another live process: " << e.to_string() << "\n";
        else if (e.code == ps::persistence_errc::not_found)
            ctx.err << "ep-run: unknown run id: " << e.to_string() << "\n";
        else
            ctx.err << "ep-run: " << e.to_string() << "\n";
        return exit_code_for_store_error(e);
    }
    switch ((*result)->status)
    {
    case ps::run_status::completed: return 0;
    case ps::run_status::interrupted: return 130;
    default: return 1;
    }
}

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

int run_workflow_command(cli_context& ctx)
{
    asio::io_context ioc;
    std::unique_ptr<emulator::emulator> emu;
    ep::environment env = ctx.env;
    if (ctx.options.emulate)
    {
        emu = start_emulator(ioc, ctx.env);
        env = emulated_environment(ctx.env, emu->base_url());
        ctx.err << "ep-run: --emulate: every provider is served by the in-process EP emulator at " << emu->base_url()
                << " (development tool, answers are emulated)\n";
    }
    cli_context inner{ctx.options, ctx.out, ctx.err, env, ctx.workflows_dir};
    auto prepared = prepare_workflow(inner, true);
    if (!prepared)
        return 2;
    // Refuse to start a run that cannot finish: every persona must route somewhere now.
    const auto routing = explain_routing(prepared->spec, prepared->graph, prepared->routing, env);
    if (!routing.all_routable())
    {
        for (const auto& p : routing.phases)
            if (!p.plan.ok())
                ctx.err << ctx.options.workflow << ": phase '" << p.phase << "': " << p.plan.error_message << "\n";
        ctx.err << "ep-run: not started (see `ep-run --explain " << ctx.options.workflow << "`)\n";
        return 2;
    }

    session_inputs in;
    in.spec = &prepared->spec;
    in.graph = &prepared->graph;
    in.routing = &prepared->routing;
    in.request.spec = in.spec;
    in.request.graph = in.graph;
    in.request.definition = read_file(ctx.options.workflow);
    in.request.inputs = input_texts(prepared->inputs);
    in.request.mix = prepared->routing.mix.name.empty() ? ctx.options.config : prepared->routing.mix.name;
    return run_session(inner, ioc, std::move(in), emu.get());
}

int resume_command(cli_context& ctx)
{
    const auto& o = ctx.options;
    const auto db = resolve_db_path(o, ctx.env);
    std::error_code fec;
    if (!std::filesystem::exists(db, fec))
    {
        ctx.err << "ep-run: no run store at " << db.string() << " (unknown run id " << o.run_id << ")\n";
        return 2;
    }
    ps::run_record run;
    {
        ps::sqlite_options ro;
        ro.read_only = true;
        auto opened = ps::sqlite_store::open(db, ro);
        if (!opened)
        {
            ctx.err << "ep-run: " << opened.error().to_string() << "\n";
            return exit_code_for_store_error(opened.error());
        }
        auto got = (*opened)->get_run(o.run_id);
        if (!got)
        {
            ctx.err << "ep-run: unknown run id '" << o.run_id << "' in " << db.string() << "\n";
            return 2;
        }
        run = std::move(*got);
    }
    if (run.status == ps::run_status::completed)
    {
        ctx.err << "ep-run: run " << run.id << " already completed; nothing to resume\n";
        return 0;
    }

    asio::io_context ioc;
    std::unique_ptr<emulator::emulator> emu;
    ep::environment env = ctx.env;
    if (o.emulate)
    {
        emu = start_emulator(ioc, ctx.env);
        env = emulated_environment(ctx.env, emu->base_url());
    }
    cli_context inner{ctx.options, ctx.out, ctx.err, env, ctx.workflows_dir};

    diagnostics diag;
    auto spec = load_workflow_string(run.definition, run.workflow + ".yaml (stored in run " + run.id + ")", diag);
    std::optional<policy> routing;
    std::optional<dag> graph;
    if (spec)
    {
        policy_options popts;
        popts.workflows_dir = ctx.workflows_dir;
        popts.config = o.config_given ? o.config : run.mix;
        popts.personas_file = o.personas_file;
        popts.workflow = &*spec;
        if (auto loaded = load_policy(popts, env, diag))
            routing = std::move(*loaded);
        if (routing)
            if (auto compiled = compile(*spec, &*routing, diag))
                graph = std::move(*compiled);
    }
    if (!spec || !routing || !graph)
    {
        diag.sort();
        for (const auto& d : diag.items())
            ctx.err << d.str() << "\n";
        ctx.err << "ep-run: cannot resume run " << run.id << "\n";
        return 2;
    }

    session_inputs in;
    in.spec = &*spec;
    in.graph = &*graph;
    in.routing = &*routing;
    in.request.spec = in.spec;
    in.request.graph = in.graph;
    in.request.resume_run_id = run.id;
    if (o.config_given)
        in.request.mix = routing->mix.name.empty() ? o.config : routing->mix.name;
    return run_session(inner, ioc, std::move(in), emu.get());
}

cli_handlers run_cli_handlers()
{
    cli_handlers h;
    h.run = run_workflow_command;
    h.resume = resume_command;
    h.list = list_command;
    h.show = show_command;
    return h;
}

}  // namespace ep::engine

namespace ep::engine {

cli_handlers default_cli_handlers()
{
    return run_cli_handlers();
}

}  // namespace ep::engine
