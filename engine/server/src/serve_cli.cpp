// ep-serve's flags → server_config + runtime_config → server on one io_context.
#include <ep/server/serve_cli.hpp>

#include "security/access.hpp"

#include <ep/cli/commands.hpp>
#include <ep/cli/emulate.hpp>
#include <ep/common/logging.hpp>
#include <ep/common/read_file.hpp>
#include <ep/engine/policy.hpp>
#include <ep/persistence/run_id.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <csignal>
#include <iostream>

namespace ep::server {

namespace {

std::filesystem::path executable_path()
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path{} : self;
}

}  // namespace

std::optional<serve_options> parse_serve_args(const std::vector<std::string>& args, const ep::environment& env,
                                              std::ostream& out, std::ostream& err, int& exit_code)
{
    serve_options o;
    auto& s = o.server;
    double heartbeat_s = 15, grace_s = 10;
    std::vector<std::string> workflow_dirs;
    CLI::App app{"ep-serve: the EP HTTP API, live run events (SSE), an OpenAI-compatible gateway and metrics"};
    app.add_option("--listen", s.listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)");
    app.add_option("--db", o.db, "the run store: a path or sqlite:PATH (default $EP_DB, else ./.ep/runs.db)");
    app.add_option("--durability", o.durability, "normal | full (an fsync per checkpoint)")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--workflows", workflow_dirs, "a directory of workflows clients may name (repeatable; before the shipped ones)")
        ->check(CLI::ExistingDirectory);
    std::string personas, tokens_file;
    app.add_option("--personas", personas, "replaces the shipped personas.yaml")->check(CLI::ExistingFile);
    app.add_option("--config", s.default_mix, "the mix for runs and persona/NAME calls that name none: A|B|C|D|E")
        ->check(CLI::IsMember({"A", "B", "C", "D", "E", "a", "b", "c", "d", "e"}));
    app.add_option("--tokens-file", tokens_file, "bearer tokens, one per line (with or instead of EP_SERVE_TOKENS)")
        ->check(CLI::ExistingFile);
    app.add_option("--rate-limit", s.rate_limit, "requests per second per token (or per address without tokens); 0: off")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--rate-burst", s.rate_burst, "requests a caller may make at once (default: the rate)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cors-origin", s.cors_origin, "the one browser Origin allowed to call the API (default: none)");
    app.add_option("--tls-cert", s.tls_cert, "PEM certificate chain: serve HTTPS")->check(CLI::ExistingFile);
    app.add_option("--tls-key", s.tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
    app.add_option("--instance", o.instance,
                   "this server's lease identity; runs it owned are resumed when a server with the same identity "
                   "starts (default ep-serve@HOST:PORT)");
    app.add_option("--max-body", s.max_body_bytes, "request body limit in bytes (default 4 MiB)")->check(CLI::PositiveNumber);
    app.add_option("--sse-heartbeat", heartbeat_s, "seconds between keep-alive comments on idle event streams")
        ->check(CLI::PositiveNumber);
    app.add_option("--shutdown-grace", grace_s, "seconds runs get to record their end on SIGTERM")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--allow-inline-providers", s.allow_inline_providers,
                 "accept submitted workflows with a providers: section (it can send a key to any host)");
    bool no_resume = false;
    app.add_flag("--no-resume", no_resume, "do not resume the runs this identity owned when it stopped");
    app.add_flag("--emulate", o.emulate, "serve every provider from the in-process EP emulator (development)");
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    try
    {
        app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    }
    catch (const CLI::ParseError& e)
    {
        // --help is a success; every usage error is exit 2, as for ep-run.
        exit_code = app.exit(e, out, err) == 0 ? 0 : 2;
        return std::nullopt;
    }
    if (!personas.empty())
        o.personas_file = personas;
    if (!tokens_file.empty())
        o.tokens_file = tokens_file;
    for (auto& d : workflow_dirs)
        s.workflow_dirs.emplace_back(d);
    s.sse_heartbeat = std::chrono::milliseconds(static_cast<std::int64_t>(heartbeat_s * 1000));
    s.shutdown_grace = std::chrono::milliseconds(static_cast<std::int64_t>(grace_s * 1000));
    s.resume_owned_runs = !no_resume;
    if (auto t = env.get("EP_SERVE_TOKENS"))
        s.tokens = parse_token_list(*t);
    if (o.tokens_file)
    {
        auto text = ep::read_whole_file(*o.tokens_file);
        if (!text)
        {
            err << "ep-serve: cannot read --tokens-file " << o.tokens_file->string() << "\n";
            exit_code = 2;
            return std::nullopt;
        }
        auto more = parse_token_list(*text);
        if (more.empty())
        {
            err << "ep-serve: --tokens-file " << o.tokens_file->string() << " holds no token\n";
            exit_code = 2;
            return std::nullopt;
        }
        s.tokens.insert(s.tokens.end(), more.begin(), more.end());
    }
    for (auto& c : s.default_mix)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    exit_code = 0;
    return o;
}

namespace {

runtime::runtime_config runtime_config_for(const serve_options& o, const ep::environment& env)
{
    runtime::runtime_config cfg;
    cfg.env = env;
    cfg.workflows_dir = engine::find_workflows_dir(env, executable_path());
    cfg.personas_file = o.personas_file;
    cfg.store = o.db;
    cfg.durability = o.durability == "full" ? persistence::durability::full : persistence::durability::normal;
    cfg.program = "ep-serve";
    std::string problem;
    auto level = env.get("EP_LOG_LEVEL") ? log_level_from(env, &problem) : spdlog::level::info;
    cfg.logger = make_stderr_logger("ep-serve", level);
    if (!problem.empty())
        cfg.logger->warn("{}", problem);
    cfg.executor.owner = o.instance.empty() ? "ep-serve@" + persistence::default_owner().substr(0, persistence::default_owner().rfind(':')) +
                                                  ":" + o.server.listen.substr(o.server.listen.rfind(':') + 1)
                                            : o.instance;
    return cfg;
}

}  // namespace

int run_serve_cli(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    auto env = ep::environment::load();
    int code = 0;
    auto opts = parse_serve_args(args, env, std::cout, std::cerr, code);
    if (!opts)
        return code;
    boost::asio::io_context ioc;
    std::unique_ptr<cli::emulator_handle> emu;
    if (opts->emulate)
    {
        emulator::emulator_config ecfg;
        ecfg.zero_latency = env.get("EP_EMULATOR_TOKENS_PER_SECOND").value_or("") == "0";
        emu = std::make_unique<cli::emulator_handle>(ioc.get_executor(), ecfg);
        emu->start();
        env = cli::emulated_environment(env, emu->base_url());
        std::cerr << "ep-serve: --emulate: every provider is served by the in-process EP emulator at " << emu->base_url()
                  << " (development tool, answers are emulated)\n";
    }
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(*opts, env));
    server srv(ioc, rt, opts->server);
    int exit_code = 0;
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    // A named lambda that outlives its coroutine (g++ 12 mishandles a capturing temporary).
    auto serve = [&]() -> boost::asio::awaitable<void> {
        if (auto failed = co_await srv.start())
        {
            std::cerr << "ep-serve: " << failed->message << "\n";
            exit_code = 2;
            signals.cancel();
            if (emu)
                emu->stop();
            co_return;
        }
        // The first line on stdout says where to connect (tests and scripts read it).
        std::cout << "listening " << srv.base_url() << std::endl;
        auto [ec, sig] = co_await signals.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (!ec)
            rt.logger()->info("signal {}: stopping (runs in flight are stopped and recorded)", sig);
        co_await srv.stop();
        if (emu)
            emu->stop();
    };
    boost::asio::co_spawn(ioc, serve(), boost::asio::detached);
    ioc.run();
    return exit_code;
}

}  // namespace ep::server
