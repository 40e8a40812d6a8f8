// ep-emulator: the EP development emulator as a program. Parses flags, starts the server,
// prints where it listens, and runs until SIGINT/SIGTERM.

#include "ep/emulator/emulator.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>

namespace {

int main_impl(int argc, char** argv)
{
    CLI::App app{"ep-emulator: the EP development emulator, a loopback server speaking the OpenAI, Anthropic and "
                 "Gemini wire protocols with deterministic, emulated answers (not a real LLM provider)"};
    ep::emulator::emulator_config config;
    int ttft_ms = static_cast<int>(config.time_to_first_token.count());
    bool print_port = false;
    bool verbose = false;
    std::string ca_out;
    app.add_option("--host", config.host, "loopback address to listen on (127.0.0.1, ::1, localhost)")
        ->capture_default_str();
    app.add_option("--port", config.port, "port, 0 = ephemeral")->capture_default_str();
    app.add_flag("--tls", config.tls, "serve HTTPS with a generated certificate (CA printed or written)");
    app.add_option("--ca-out", ca_out, "with --tls: write the CA certificate (PEM) to this file");
    app.add_option("--ttft-ms", ttft_ms, "time to first token, ms")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--tps", config.tokens_per_second, "tokens per second")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--zero-latency", config.zero_latency, "no pacing delays (tests, benchmarks)");
    app.add_option("--threads", config.threads, "I/O threads")->capture_default_str()->check(CLI::Range(1, 64));
    app.add_flag("--print-port", print_port,
                 "print only the port number on stdout (first line), for scripts; the banner goes to stderr");
    app.add_option("--request-log-size", config.max_logged_requests,
                   "requests kept for GET /_emulator/requests (the oldest are dropped)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag("-v,--verbose", verbose, "log every request and fault on stderr");
    try
    {
        app.parse(argc, argv);
    }
    catch (const CLI::ParseError& e)
    {
        return app.exit(e) == 0 ? 0 : 2;
    }
    config.time_to_first_token = std::chrono::milliseconds(ttft_ms);
    config.logger = spdlog::stderr_color_mt("ep-emulator");
    config.logger->set_level(verbose ? spdlog::level::info : spdlog::level::warn);

    // Block the signals before any thread starts, so that only sigwait below receives them.
    // Restore the default disposition first: a shell starts background jobs with SIGINT
    // ignored, and an ignored signal is discarded instead of reaching sigwait.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    ep::emulator::emulator server(config);
    try
    {
        server.start();
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-emulator (EP development emulator): " << e.what() << "\n";
        return 2;
    }

    std::ostream& banner = print_port ? std::cerr : std::cout;
    if (print_port)
        std::cout << server.port() << std::endl;
    banner << "EP development emulator (not a real LLM provider) listening on " << server.base_url() << "\n"
           << "  OpenAI     base URL: " << server.openai_base_url() << "\n"
           << "  Anthropic  base URL: " << server.anthropic_base_url() << "\n"
           << "  Gemini     base URL: " << server.gemini_base_url() << "\n"
           << "  admin: " << server.base_url() << "/_emulator/{requests,stats,faults,reset}\n";
    if (config.tls)
    {
        if (!ca_out.empty())
        {
            std::ofstream(ca_out) << server.ca_pem();
            banner << "  CA certificate written to " << ca_out << "\n";
        }
        else
            banner << "  CA certificate:\n" << server.ca_pem();
    }
    banner << "Press Ctrl-C to stop." << std::endl;

    int sig = 0;
    sigwait(&signals, &sig);
    std::cerr << "ep-emulator (EP development emulator): stopping on signal " << sig << std::endl;
    server.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-emulator (EP development emulator): fatal: " << e.what() << "\n";
        return 1;
    }
}
