// ep-serve's OpenAI-compatible gateway, measured on the shipped binaries: ep-emulator
// (--zero-latency, the upstream) and ep-serve pointed at it, both child processes on loopback.
//
//   1. Added latency at concurrency 1: EP_BENCH_REQUESTS (default 2,000) streamed completions
//      straight to the emulator and the same number through the gateway (PROVIDER/MODEL, same
//      upstream model, so the same answer), interleaved one by one so that the machine's drift
//      hits both alike; each timed from the request's first byte to the stream's last. Prints
//      p50/p99 of both and the differences (the gateway's added latency). Target: added p99
//      ≤ 200 µs.
//   2. Throughput at concurrency 64, non-streaming: 64 keep-alive connections from one client
//      thread for EP_BENCH_SECONDS (default 10), direct and through the gateway. Target:
//      ≥ 10,000 req/s through the gateway. If `wrk` is installed it measures the gateway too.
//
// The emulator gets EP_BENCH_EMULATOR_THREADS (default 1) threads, ep-serve its one loop. Both
// share this 2-core machine with the client (and with whatever else runs): the load average is
// printed with the figures.
#include "serve_bench_common.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <iostream>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

long env_long(const char* name, long fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::max(1L, std::atol(v)) : fallback;
}

std::string chat_body(const std::string& model, bool stream)
{
    return std::string(R"({"model":")") + model + R"(","stream":)" + (stream ? "true" : "false") +
           R"(,"messages":[{"role":"user","content":"Write a haiku about queues"}]})";
}

http::request<http::string_body> chat_request(int port, const std::string& model, bool stream)
{
    http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(http::field::content_type, "application/json");
    req.set(http::field::authorization, "Bearer bench");
    req.keep_alive(true);
    req.body() = chat_body(model, stream);
    req.prepare_payload();
    return req;
}

// One blocking keep-alive connection; returns the seconds one request took (0 on a failure).
struct sync_client
{
    sync_client(asio::io_context& ioc, int port) : sock(ioc), port(port)
    {
        sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
        sock.set_option(tcp::no_delay(true));
    }
    double call(const http::request<http::string_body>& req)
    {
        const auto t0 = clock_type::now();
        beast::error_code ec;
        http::write(sock, req, ec);
        http::response<http::string_body> res;
        if (!ec)
            http::read(sock, buf, res, ec);
        const auto t1 = clock_type::now();
        if (ec || res.result_int() != 200 || res.body().find("[DONE]") == std::string::npos)
            return 0;
        return std::chrono::duration<double>(t1 - t0).count();
    }
    tcp::socket sock;
    beast::flat_buffer buf;
    int port;
};

void latency_c1(int emulator_port, int serve_port, long requests)
{
    asio::io_context ioc;
    sync_client direct(ioc, emulator_port), gateway(ioc, serve_port);
    const auto direct_req = chat_request(emulator_port, "gpt-6.2-sol", true);
    const auto gateway_req = chat_request(serve_port, "openai/gpt-6.2-sol", true);
    for (int i = 0; i < 200; ++i)  // warm-up: connections, pools, caches
    {
        direct.call(direct_req);
        gateway.call(gateway_req);
    }
    std::vector<double> d, g;
    long errors = 0;
    for (long i = 0; i < requests; ++i)
    {
        const double a = direct.call(direct_req);
        const double b = gateway.call(gateway_req);
        if (a > 0 && b > 0)
        {
            d.push_back(a);
            g.push_back(b);
        }
        else
            ++errors;
    }
    auto us = [](double s) { return s * 1e6; };
    const double d50 = ep::bench::percentile(d, 50), d99 = ep::bench::percentile(d, 99);
    const double g50 = ep::bench::percentile(g, 50), g99 = ep::bench::percentile(g, 99);
    std::printf("c=1 streamed completion, %zu pairs, %ld errors\n", d.size(), errors);
    std::printf("  direct to the emulator   p50 %8.1f us   p99 %8.1f us\n", us(d50), us(d99));
    std::printf("  through ep-serve         p50 %8.1f us   p99 %8.1f us\n", us(g50), us(g99));
    std::printf("  added by the gateway     p50 %8.1f us   p99 %8.1f us   (target: p99 <= 200 us)\n", us(g50 - d50),
                us(g99 - d99));
}

struct load_result
{
    long ok = 0;
    long errors = 0;
    double seconds = 0;
};

asio::awaitable<void> load_connection(int port, std::string model, clock_type::time_point end, load_result& out)
{
    auto ex = co_await asio::this_coro::executor;
    tcp::socket sock(ex);
    auto [cec] = co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, use_tuple);
    if (cec)
    {
        ++out.errors;
        co_return;
    }
    sock.set_option(tcp::no_delay(true));
    const auto req = chat_request(port, model, false);
    beast::flat_buffer buf;
    while (clock_type::now() < end)
    {
        auto [wec, wn] = co_await http::async_write(sock, req, use_tuple);
        http::response<http::string_body> res;
        boost::system::error_code rec;
        if (!wec)
            std::tie(rec, std::ignore) = co_await http::async_read(sock, buf, res, use_tuple);
        if (wec || rec || res.result_int() != 200)
        {
            ++out.errors;
            co_return;
        }
        ++out.ok;
    }
}

load_result throughput_c64(int port, const std::string& model, long seconds)
{
    asio::io_context ioc;
    load_result r;
    const auto t0 = clock_type::now();
    const auto end = t0 + std::chrono::seconds(seconds);
    for (int i = 0; i < 64; ++i)
        asio::co_spawn(ioc, load_connection(port, model, end, r), asio::detached);
    ioc.run();
    r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    return r;
}

void run_wrk(int port, long seconds)
{
    if (std::system("command -v wrk >/dev/null 2>&1") != 0)
    {
        std::printf("  wrk: not installed (scripts/setup.sh installs it)\n");
        return;
    }
    const auto script = std::filesystem::temp_directory_path() / "ep_bench_gateway.lua";
    std::ofstream(script) << "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
                          << "wrk.headers[\"Authorization\"] = \"Bearer bench\"\nwrk.body = '" << chat_body("openai/gpt-6.2-sol", false)
                          << "'\n";
    const std::string cmd = "wrk -t2 -c64 -d" + std::to_string(seconds) + "s -s " + script.string() + " http://127.0.0.1:" +
                            std::to_string(port) + "/v1/chat/completions 2>&1 | grep -E 'Requests/sec|Non-2xx|Socket errors|Latency'";
    std::printf("  wrk -t2 -c64 through ep-serve:\n");
    std::fflush(stdout);
    (void)std::system(cmd.c_str());
    std::filesystem::remove(script);
}

}  // namespace

int main()
{
    const long requests = env_long("EP_BENCH_REQUESTS", 2000);
    const long seconds = env_long("EP_BENCH_SECONDS", 10);
    const long emulator_threads = env_long("EP_BENCH_EMULATOR_THREADS", 1);
    const auto dir = std::filesystem::temp_directory_path() / ("ep-bench-gateway-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto bin = ep::bench::binary_dir();
    auto emu = ep::bench::spawn_child(bin / "providers" / "emulator" / "ep-emulator",
                                      {"--port", "0", "--zero-latency", "--print-port", "--threads", std::to_string(emulator_threads)},
                                      {}, dir / "emulator.out");
    const int emu_port = ep::bench::wait_for_port(emu);
    if (emu_port == 0)
    {
        std::fprintf(stderr, "bench_gateway: ep-emulator did not start (build it: cmake --build --preset release)\n");
        return 1;
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(emu_port);
    auto serve = ep::bench::spawn_child(
        bin / "engine" / "server" / "ep-serve", {"--listen", "127.0.0.1:0", "--db", (dir / "runs.db").string()},
        {"EP_OPENAI_BASE_URL=" + base + "/v1", "EP_OPENAI_API_KEY=bench-key", "EP_ANTHROPIC_BASE_URL=" + base,
         "EP_ANTHROPIC_API_KEY=bench-key", "EP_SERVE_TOKENS=bench", "EP_LOG_LEVEL=warn"},
        dir / "serve.out");
    const int serve_port = ep::bench::wait_for_port(serve);
    if (serve_port == 0)
    {
        std::fprintf(stderr, "bench_gateway: ep-serve did not start\n");
        ep::bench::stop_child(emu);
        return 1;
    }
    std::printf("bench_gateway: ep-serve %d -> ep-emulator %d (%ld thread(s)); load average before: %s\n", serve_port,
                emu_port, emulator_threads, ep::bench::load_average().c_str());
    latency_c1(emu_port, serve_port, requests);

    const double serve_cpu0 = ep::bench::proc_cpu_seconds(serve.pid), emu_cpu0 = ep::bench::proc_cpu_seconds(emu.pid);
    auto direct = throughput_c64(emu_port, "gpt-6.2-sol", seconds);
    const double emu_cpu1 = ep::bench::proc_cpu_seconds(emu.pid);
    auto gw = throughput_c64(serve_port, "openai/gpt-6.2-sol", seconds);
    const double serve_cpu = ep::bench::proc_cpu_seconds(serve.pid) - serve_cpu0;
    const double emu_cpu = ep::bench::proc_cpu_seconds(emu.pid) - emu_cpu1;
    std::printf("c=64 non-streaming, %ld s each\n", seconds);
    std::printf("  direct to the emulator   %8.0f req/s  (%ld errors; emulator CPU %.1f s)\n", direct.ok / direct.seconds,
                direct.errors, emu_cpu1 - emu_cpu0);
    std::printf("  through ep-serve         %8.0f req/s  (%ld errors; ep-serve CPU %.1f s = %.0f us/request, emulator %.1f s)"
                "   (target: >= 10,000 req/s)\n",
                gw.ok / gw.seconds, gw.errors, serve_cpu, gw.ok ? serve_cpu / static_cast<double>(gw.ok) * 1e6 : 0.0, emu_cpu);
    run_wrk(serve_port, seconds);
    std::printf("ep-serve peak RSS %ld KiB; load average after: %s\n", ep::bench::proc_kib(serve.pid, "VmHWM:"),
                ep::bench::load_average().c_str());
    ep::bench::stop_child(serve);
    ep::bench::stop_child(emu);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
