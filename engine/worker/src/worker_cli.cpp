// ep-worker's flags.
#include <ep/worker/worker.hpp>

#include <ep/persistence/open_store.hpp>

#include <CLI/CLI.hpp>

#include <iostream>

namespace ep::worker {

namespace {

constexpr const char* description = R"(ep-worker: runs the workflows submitted to a shared PostgreSQL store.

  ep-worker --db postgres://USER@HOST/DB [--concurrency N] [--id NAME]

Start any number of workers, on any number of machines, against one database; submit runs with
`ep-run WORKFLOW --db postgres://… --detach`. A worker that dies loses its runs' leases, and
another worker reclaims them after --lease-ttl, replaying their completed phases from the
store. SIGTERM/SIGINT: stop claiming, let runs in flight finish for --drain-timeout, then stop
and hand them back. Providers and keys come from this worker's environment (.env, EP_*).
)";

std::chrono::milliseconds seconds_to_ms(double s)
{
    return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
}

}  // namespace

int run_worker_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   const ep::environment& env)
{
    worker_options o;
    double lease_ttl_s = 30, drain_s = 30;
    std::string personas;
    CLI::App app{description, "ep-worker"};
    app.add_option("--db", o.db, "The shared store: postgres://… (default $EP_DB)");
    app.add_option("--concurrency", o.concurrency, "Runs executed at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--id", o.id, "This worker's name, the lease owner (default host:pid); unique per worker");
    app.add_option("--lease-ttl", lease_ttl_s,
                   "Seconds without a heartbeat after which a run is reclaimed by another worker")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--drain-timeout", drain_s, "On SIGTERM: seconds runs in flight get to finish")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--max-runs", o.max_runs, "Exit after running this many runs (0: no limit)")->capture_default_str();
    app.add_flag("--exit-when-idle", o.exit_when_idle, "Exit once no run is runnable (batch jobs)");
    app.add_option("--personas", personas, "Use this personas file instead of the shipped one");
    std::vector<std::string> storage = args.empty() ? std::vector<std::string>{"ep-worker"} : args;
    std::vector<char*> argv;
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
        // CLI11 may quote the --db value: never show a password.
        err << "ep-worker: " << ep::persistence::redact_store_uri(e.what()) << " (see ep-worker --help)\n";
        return 2;
    }
    o.lease_ttl = seconds_to_ms(lease_ttl_s);
    o.drain_timeout = seconds_to_ms(drain_s);
    if (!personas.empty())
        o.personas_file = personas;
    return run_worker(o, env, err);
}

int run_worker_cli(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    auto env = ep::environment::load();
    return run_worker_cli(args, std::cout, std::cerr, env);
}

}  // namespace ep::worker
