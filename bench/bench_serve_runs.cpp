// The runs API under load, on the shipped binaries: EP_BENCH_RUNS (default 1,000; `--quick`
// 100) runs of a one-phase workflow are submitted to ep-serve (POST /v1/runs) and each is
// followed to its end over its own SSE connection (GET /v1/runs/{id}/events), all at once, with
// ep-emulator paced (EP_BENCH_TTFT_MS, default 300 ms; EP_BENCH_TPS, default 100 tokens/s) so the
// runs really are in flight together. Prints: submit rate, time until every stream ended,
// events received, streams that did not end with run_completed{succeeded}, ep-serve's peak RSS
// over its idle RSS and that per run, its CPU time, and the load average.
#include "serve_bench_common.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstring>

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

const char* workflow_yaml = "name: bench-one\\nphases:\\n  answer: {persona: architect, prompt: 'Design a tiny queue'}\\n";

struct totals
{
    long events = 0;
    long succeeded = 0;
    long failed_streams = 0;
};

asio::awaitable<void> follow(int port, std::string run_id, totals& t)
{
    auto ex = co_await asio::this_coro::executor;
    tcp::socket sock(ex);
    auto [cec] = co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, use_tuple);
    if (cec)
    {
        ++t.failed_streams;
        co_return;
    }
    http::request<http::empty_body> req{http::verb::get, "/v1/runs/" + run_id + "/events", 11};
    req.set(http::field::host, "127.0.0.1");
    auto [wec, wn] = co_await http::async_write(sock, req, use_tuple);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(64u << 20);
    boost::system::error_code hec = wec;
    if (!wec)
        std::tie(hec, std::ignore) = co_await http::async_read_header(sock, buf, p, use_tuple);
    std::size_t pos = 0;
    bool completed = false;
    while (!hec && !p.is_done())
    {
        auto [rec, rn] = co_await http::async_read_some(sock, buf, p, use_tuple);
        auto& body = p.get().body();
        for (auto end = body.find("\n\n", pos); end != std::string::npos; end = body.find("\n\n", pos))
        {
            if (body.compare(pos, 3, "id:") == 0)
                ++t.events;
            if (body.find("\"type\":\"run_completed\"", pos) < end && body.find("\"succeeded\"", pos) < end)
                completed = true;
            pos = end + 2;
        }
        if (rec)
            break;
    }
    if (completed)
        ++t.succeeded;
    else
        ++t.failed_streams;
}

std::string submit(tcp::socket& sock, beast::flat_buffer& buf)
{
    http::request<http::string_body> req{http::verb::post, "/v1/runs", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::string(R"({"yaml":")") + workflow_yaml + "\"}";
    req.prepare_payload();
    http::write(sock, req);
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    const auto& b = res.body();
    auto at = b.find("\"run_id\":\"");
    if (res.result_int() != 201 || at == std::string::npos)
        return {};
    at += 10;
    return b.substr(at, b.find('"', at) - at);
}

}  // namespace

int main(int argc, char** argv)
{
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const long runs = env_long("EP_BENCH_RUNS", quick ? 100 : 1000);
    const long ttft = env_long("EP_BENCH_TTFT_MS", 300), tps = env_long("EP_BENCH_TPS", 100);
    const auto dir = std::filesystem::temp_directory_path() / ("ep-bench-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto bin = ep::bench::binary_dir();
    auto emu = ep::bench::spawn_child(bin / "providers" / "emulator" / "ep-emulator",
                                      {"--port", "0", "--print-port", "--ttft-ms", std::to_string(ttft), "--tps", std::to_string(tps)},
                                      {}, dir / "emulator.out");
    const int emu_port = ep::bench::wait_for_port(emu);
    const std::string base = "http://127.0.0.1:" + std::to_string(emu_port);
    auto serve = ep::bench::spawn_child(
        bin / "engine" / "server" / "ep-serve", {"--listen", "127.0.0.1:0", "--db", (dir / "runs.db").string()},
        {"EP_OPENAI_BASE_URL=" + base + "/v1", "EP_OPENAI_API_KEY=bench-key", "EP_ANTHROPIC_BASE_URL=" + base,
         "EP_ANTHROPIC_API_KEY=bench-key", "EP_LOG_LEVEL=warn"},
        dir / "serve.out");
    const int port = ep::bench::wait_for_port(serve);
    if (emu_port == 0 || port == 0)
    {
        std::fprintf(stderr, "bench_serve_runs: the binaries did not start (build them: cmake --build --preset release)\n");
        ep::bench::stop_child(serve);
        ep::bench::stop_child(emu);
        return 1;
    }
    asio::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    beast::flat_buffer buf;
    {
        // Warm-up: one run to its end, so the idle figure includes what every run shares.
        totals warm;
        auto id = submit(sock, buf);
        asio::co_spawn(ioc, follow(port, id, warm), asio::detached);
        ioc.run();
        ioc.restart();
    }
    const long idle_kib = ep::bench::proc_kib(serve.pid, "VmRSS:");
    const double cpu0 = ep::bench::proc_cpu_seconds(serve.pid);
    std::printf("bench_serve_runs: %ld runs, emulator ttft %ld ms at %ld tokens/s; load average before: %s\n", runs, ttft, tps,
                ep::bench::load_average().c_str());
    const auto t0 = clock_type::now();
    std::vector<std::string> ids;
    for (long i = 0; i < runs; ++i)
        if (auto id = submit(sock, buf); !id.empty())
            ids.push_back(id);
    const auto t1 = clock_type::now();
    totals t;
    for (const auto& id : ids)
        asio::co_spawn(ioc, follow(port, id, t), asio::detached);
    ioc.run();
    const auto t2 = clock_type::now();
    const long peak_kib = ep::bench::proc_kib(serve.pid, "VmHWM:");
    const double cpu = ep::bench::proc_cpu_seconds(serve.pid) - cpu0;
    auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
    std::printf("  submitted %zu of %ld in %.2f s (%.0f runs/s)\n", ids.size(), runs, secs(t1 - t0),
                static_cast<double>(ids.size()) / secs(t1 - t0));
    std::printf("  all %zu streams ended %.2f s after the first submit: %ld run_completed{succeeded}, %ld streams without it\n",
                ids.size(), secs(t2 - t0), t.succeeded, t.failed_streams);
    std::printf("  events received over SSE: %ld (%.0f/s)\n", t.events, static_cast<double>(t.events) / secs(t2 - t0));
    std::printf("  ep-serve RSS idle %ld KiB, peak %ld KiB: %.1f KiB per run in flight; CPU %.2f s (%.2f ms per run)\n", idle_kib,
                peak_kib, static_cast<double>(peak_kib - idle_kib) / static_cast<double>(std::max<std::size_t>(ids.size(), 1)), cpu,
                cpu * 1000.0 / static_cast<double>(std::max<std::size_t>(ids.size(), 1)));
    std::printf("  load average after: %s\n", ep::bench::load_average().c_str());
    ep::bench::stop_child(serve);
    ep::bench::stop_child(emu);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return t.failed_streams == 0 ? 0 : 1;
}
