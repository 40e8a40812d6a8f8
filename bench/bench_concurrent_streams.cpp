// Concurrency: N slow streams open at the same time (default 10,000; EP_BENCH_STREAMS=N, or
// `--quick` for 500) through the real client path — make_provider (openai adapter), the
// pooled HTTP transport, the SSE decoder, the event channel and stream_call — against the
// EP emulator over loopback HTTP. Targets: no errors, ≤ 64 KiB of client memory per stream.
//
// The emulator runs in a forked child process on its own io_context thread, the clients on
// this process's main thread (one io_context), so that:
//   - peak RSS and CPU time of this process are the client's alone (the emulator's are
//     reported on their own line);
//   - each process needs only N descriptors (+ a few), not 2N, under RLIMIT_NOFILE.
// The fork happens before any thread exists.
//
// Pacing: the emulator waits EP_BENCH_TTFT_MS (default 200) before the first token, then
// sends EP_BENCH_TPS tokens/s per stream (~70 content events, ~90 tokens per answer). The
// default rate is 50 tokens/s capped so that all streams together are offered at most
// 5,000 events/s (10,000 streams: 0.5 tokens/s, ~2.5 min per stream): what a shared 2-core
// box sustains with both sides on it, so the streams stay paced (slow) rather than CPU-bound
// and the figures measure concurrency, not saturation. With EP_BENCH_TPS=50 and 10,000
// streams (500,000 events/s offered) the emulator's one thread falls behind and starts
// failing calls with first-byte timeouts. "peak streaming" says how many streams had their
// first token and were not finished yet, i.e. were genuinely open together.
//
// Prints: streams completed, errors, wall time, events/s, peak RSS and RSS per stream (client
// and emulator; user-space only, kernel socket buffers are not in RSS), CPU of both, and
// per-stream time-to-first-token p50/p99. All N calls start at once, so TTFT is measured from
// the call's start and includes the whole connect storm (resolve, connect, request, headers
// for all N, on one client thread and one emulator thread): it is the worst-case herd, and on
// a loaded machine it grows with N and with the emulator's CPU share.
#include <ep/emulator/emulator.hpp>
#include <ep/providers/factory.hpp>
#include <ep/providers/http_client.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace emu = ep::emulator;
namespace pv = ep::providers;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int quick_streams = 500;
constexpr int default_streams = 10000;
constexpr rlim_t spare_descriptors = 64;  // listener, epoll, eventfd, stdio, pipes …
constexpr double max_tokens_per_second = 50;
constexpr double offered_events_per_second = 5000;  // all streams together, by default

long env_long(const char* name, long fallback)
{
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
        return fallback;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    return end != v && *end == '\0' && n > 0 ? n : fallback;
}

double env_double(const char* name, double fallback)
{
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
        return fallback;
    char* end = nullptr;
    double d = std::strtod(v, &end);
    return end != v && *end == '\0' && d > 0 ? d : fallback;
}

/// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"), 0 if missing.
long status_kib(const std::string& pid, const char* field)
{
    std::ifstream f("/proc/" + pid + "/status");
    const std::string prefix = std::string(field) + ":";
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(prefix, 0) == 0)
            return std::stol(line.substr(prefix.size()));
    return 0;
}

double cpu_seconds(const rusage& r)
{
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return sec(r.ru_utime) + sec(r.ru_stime);
}

double percentile(std::vector<double>& sorted_ms, double p)
{
    if (sorted_ms.empty())
        return 0;
    auto i = static_cast<std::size_t>(p * static_cast<double>(sorted_ms.size() - 1) + 0.5);
    return sorted_ms[std::min(i, sorted_ms.size() - 1)];
}

/// Raises the soft RLIMIT_NOFILE to the hard limit. False (after saying why) when even the
/// hard limit cannot hold `streams` sockets.
bool raise_nofile(int streams)
{
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    {
        std::perror("getrlimit(RLIMIT_NOFILE)");
        return false;
    }
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        std::perror("setrlimit(RLIMIT_NOFILE)");
    getrlimit(RLIMIT_NOFILE, &lim);
    const rlim_t need = static_cast<rlim_t>(streams) + spare_descriptors;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need)
    {
        std::fprintf(stderr,
                     "bench_concurrent_streams: RLIMIT_NOFILE is %llu (hard %llu), but %d streams need %llu "
                     "descriptors in each process (the clients here, the emulator in a child).\n"
                     "  Raise the hard limit (e.g. `ulimit -Hn %llu` as root, or nofile in "
                     "/etc/security/limits.conf), or run fewer: EP_BENCH_STREAMS=%llu.\n",
                     static_cast<unsigned long long>(lim.rlim_cur), static_cast<unsigned long long>(lim.rlim_max),
                     streams, static_cast<unsigned long long>(need), static_cast<unsigned long long>(need),
                     static_cast<unsigned long long>(lim.rlim_cur > spare_descriptors ? lim.rlim_cur - spare_descriptors : 0));
        return false;
    }
    std::printf("RLIMIT_NOFILE: %llu (need %llu per process)\n", static_cast<unsigned long long>(lim.rlim_cur),
                static_cast<unsigned long long>(need));
    return true;
}

/// Every stream connects from its own ephemeral port to the one emulator port.
void check_port_range(int streams)
{
    std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
    long lo = 0, hi = 0;
    if (f >> lo >> hi && hi - lo + 1 < streams)
        std::fprintf(stderr, "warning: ip_local_port_range %ld-%ld has fewer ports than %d streams\n", lo, hi, streams);
}

bool write_all(int fd, const void* data, std::size_t n)
{
    const char* p = static_cast<const char*>(data);
    while (n > 0)
    {
        auto w = ::write(fd, p, n);
        if (w <= 0)
            return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t n)
{
    char* p = static_cast<char*>(data);
    while (n > 0)
    {
        auto r = ::read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

/// The emulator's side of the fork: starts it, sends its port up `port_fd`, serves until
/// `stop_fd` reaches EOF (the parent closed it or died), then sends the request count.
[[noreturn]] void run_emulator_child(const emu::emulator_config& cfg, int port_fd, int stop_fd)
{
    int rc = 0;
    try
    {
        emu::emulator server(cfg);
        server.start();
        const std::uint16_t port = server.port();
        write_all(port_fd, &port, sizeof port);
        char c;
        while (::read(stop_fd, &c, 1) > 0)
        {
        }
        const std::uint64_t served = server.stats().requests;
        server.stop();
        write_all(port_fd, &served, sizeof served);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "emulator: %s\n", e.what());
        rc = 1;
    }
    std::fflush(stderr);
    ::_exit(rc);
}

/// What all streams share; touched only from the client thread.
struct counters
{
    int in_flight = 0;
    int peak_in_flight = 0;
    int streaming = 0;  // first token received, not finished
    int peak_streaming = 0;
    int completed = 0;
    int errors = 0;
    std::uint64_t events = 0;
    std::int64_t output_tokens = 0;
    std::map<std::string, int> error_kinds;  // message → count
    clock_type::time_point last_done;
};

asio::awaitable<void> one_stream(pv::provider& p, const pv::chat_request& req, counters& c, double& ttft_ms,
                                 double& duration_ms)
{
    const auto start = clock_type::now();
    c.peak_in_flight = std::max(c.peak_in_flight, ++c.in_flight);
    bool first = false;
    pv::event_callback on_event = [&](const pv::stream_event& ev) {
        ++c.events;
        if (!first && std::holds_alternative<pv::text_delta_event>(ev))
        {
            first = true;
            ttft_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
            c.peak_streaming = std::max(c.peak_streaming, ++c.streaming);
        }
    };
    auto call = pv::stream_call(p, req, std::move(on_event));
    pv::call_result result = co_await std::move(call);
    --c.in_flight;
    duration_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    if (first)
        --c.streaming;
    if (result.status.ok() && first)
    {
        ++c.completed;
        c.output_tokens += result.response.totals.output_tokens;
    }
    else
    {
        ++c.errors;
        ttft_ms = -1;
        duration_ms = -1;
        const auto& st = result.status;
        ++c.error_kinds[st.ok() ? std::string("no text") : st.diag.message.empty() ? st.ec.message() : st.diag.message];
    }
    c.last_done = clock_type::now();
}

}  // namespace

int main(int argc, char** argv)
{
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int streams = static_cast<int>(env_long("EP_BENCH_STREAMS", quick ? quick_streams : default_streams));
    const long ttft_ms = env_long("EP_BENCH_TTFT_MS", 200);
    const double tps = env_double("EP_BENCH_TPS", std::min(max_tokens_per_second, offered_events_per_second / streams));

    if (!raise_nofile(streams))
        return 2;
    check_port_range(streams);

    // ---- the emulator, in a child process (no thread exists yet) ------------------------
    emu::emulator_config ecfg;
    ecfg.time_to_first_token = std::chrono::milliseconds(ttft_ms);
    ecfg.tokens_per_second = tps;
    ecfg.threads = 1;
    ecfg.max_logged_requests = 16;  // the request log is not what we measure
    int port_pipe[2];
    int stop_pipe[2];
    if (::pipe(port_pipe) != 0 || ::pipe(stop_pipe) != 0)
    {
        std::perror("pipe");
        return 1;
    }
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child < 0)
    {
        std::perror("fork");
        return 1;
    }
    if (child == 0)
    {
        ::close(port_pipe[0]);
        ::close(stop_pipe[1]);
        run_emulator_child(ecfg, port_pipe[1], stop_pipe[0]);
    }
    ::close(port_pipe[1]);
    ::close(stop_pipe[0]);
    std::uint16_t port = 0;
    if (!read_all(port_pipe[0], &port, sizeof port))
    {
        std::fprintf(stderr, "the emulator did not start\n");
        ::waitpid(child, nullptr, 0);
        return 1;
    }
    const std::string child_pid = std::to_string(child);
    const std::string base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";

    // ---- the client: one io_context on this thread ---------------------------------------
    asio::io_context ioc(1);
    pv::provider_config cfg;
    cfg.name = "emulator";
    cfg.type = "openai";
    cfg.base_url = base_url;
    cfg.api_key = "bench-key";  // dummy: loopback emulator
    cfg.available = true;
    cfg.capabilities = {"streaming", "system_prompt"};
    pv::model_info mi;
    mi.id = "emu-bench";
    cfg.models.push_back(mi);
    cfg.timeouts.connect = 30s;  // the connect storm may overflow the accept queue (SYN retries)
    // Default first-byte (60 s) and total (10 min) timeouts; the idle one must outlast a token gap.
    const auto token_gap = std::chrono::milliseconds(static_cast<std::int64_t>(1000.0 / tps));
    cfg.timeouts.idle = std::max<std::chrono::milliseconds>(cfg.timeouts.idle, 4 * token_gap);
    // The pool caps only *idle* connections per host; active ones are never limited, so each
    // concurrent stream opens its own. Let all of them go back idle at the end.
    pv::provider_deps deps;
    deps.pool = std::make_shared<pv::connection_pool>(static_cast<std::size_t>(streams));
    auto provider = pv::make_provider(ioc.get_executor(), cfg, deps);

    // One request for every call (the caller's data, not per-stream client state); it
    // outlives every coroutine.
    pv::chat_request req;
    req.model = mi.id;
    // The emulator's qa answer to this is ~70 content events, ~90 output tokens.
    req.messages.push_back(pv::message::user_text("Plan the tests of the streaming transport under load"));
    req.max_tokens = 200;
    req.metadata["persona"] = "qa";

    counters c;
    std::vector<double> ttft(static_cast<std::size_t>(streams), -1.0);
    std::vector<double> duration(static_cast<std::size_t>(streams), -1.0);
    std::uint64_t crashes = 0;

    const long base_rss = status_kib("self", "VmRSS");
    const long emu_base_rss = status_kib(child_pid, "VmRSS");
    rusage ru0{};
    getrusage(RUSAGE_SELF, &ru0);
    const auto t0 = clock_type::now();
    for (int i = 0; i < streams; ++i)
    {
        auto coro = one_stream(*provider, req, c, ttft[static_cast<std::size_t>(i)],
                               duration[static_cast<std::size_t>(i)]);
        asio::co_spawn(ioc, std::move(coro), [&](std::exception_ptr e) {
            if (e)
                ++crashes;
        });
    }
    ioc.run();
    const auto wall = std::chrono::duration<double>(c.last_done - t0).count();
    rusage ru1{};
    getrusage(RUSAGE_SELF, &ru1);
    const long peak_rss = status_kib("self", "VmHWM");
    const long emu_peak_rss = status_kib(child_pid, "VmHWM");

    // ---- stop the emulator ---------------------------------------------------------------
    ::close(stop_pipe[1]);
    std::uint64_t served = 0;
    const bool got_served = read_all(port_pipe[0], &served, sizeof served);
    int child_status = 0;
    ::waitpid(child, &child_status, 0);
    rusage ruc{};
    getrusage(RUSAGE_CHILDREN, &ruc);

    // ---- figures ---------------------------------------------------------------------------
    auto successful_sorted = [](const std::vector<double>& all) {
        std::vector<double> ok;
        ok.reserve(all.size());
        for (double t : all)
            if (t >= 0)
                ok.push_back(t);
        std::sort(ok.begin(), ok.end());
        return ok;
    };
    std::vector<double> ok_ttft = successful_sorted(ttft);
    std::vector<double> ok_duration = successful_sorted(duration);
    const int errors = c.errors + static_cast<int>(crashes);
    const double client_cpu = cpu_seconds(ru1) - cpu_seconds(ru0);
    const double emu_cpu = cpu_seconds(ruc);
    const double per_stream_kib = static_cast<double>(peak_rss - base_rss) / streams;
    const double emu_per_stream_kib = static_cast<double>(emu_peak_rss - emu_base_rss) / streams;

    std::printf("bench_concurrent_streams: %d streams, openai adapter over loopback HTTP (1 client thread, "
                "emulator in a child process with %d thread), emulator TTFT %ld ms, %.2f tokens/s per stream\n",
                streams, ecfg.threads, ttft_ms, tps);
    std::printf("  streams completed   %d / %d   (errors %d)\n", c.completed, streams, errors);
    for (const auto& [what, n] : c.error_kinds)
        std::printf("    error x%d: %s\n", n, what.c_str());
    if (crashes > 0)
        std::printf("    exceptions: %llu\n", static_cast<unsigned long long>(crashes));
    std::printf("  peak concurrency    %d in flight, %d streaming at once\n", c.peak_in_flight, c.peak_streaming);
    std::printf("  connections opened  %llu   (emulator served %s requests)\n",
                static_cast<unsigned long long>(deps.pool->connections_opened()),
                got_served ? std::to_string(served).c_str() : "?");
    std::printf("  wall time           %.2f s\n", wall);
    std::printf("  events              %llu   (%.1f per stream, %.0f events/s)\n",
                static_cast<unsigned long long>(c.events), static_cast<double>(c.events) / streams,
                wall > 0 ? static_cast<double>(c.events) / wall : 0.0);
    std::printf("  answer              %.1f output tokens per stream (emulator's count)\n",
                c.completed > 0 ? static_cast<double>(c.output_tokens) / c.completed : 0.0);
    std::printf("  TTFT per stream     p50 %.1f ms, p99 %.1f ms, max %.1f ms   (from the call's start)\n",
                percentile(ok_ttft, 0.50), percentile(ok_ttft, 0.99), ok_ttft.empty() ? 0.0 : ok_ttft.back());
    std::printf("  stream duration     p50 %.0f ms, p99 %.0f ms   (unloaded: TTFT + tokens / rate)\n",
                percentile(ok_duration, 0.50), percentile(ok_duration, 0.99));
    std::printf("  client  RSS         before %ld KiB, peak %ld KiB -> %.1f KiB per stream   (target <= 64)\n",
                base_rss, peak_rss, per_stream_kib);
    std::printf("  client  CPU         %.2f s (%.0f%% of one core)\n", client_cpu,
                wall > 0 ? 100.0 * client_cpu / wall : 0.0);
    std::printf("  emulator RSS        before %ld KiB, peak %ld KiB -> %.1f KiB per stream\n", emu_base_rss,
                emu_peak_rss, emu_per_stream_kib);
    std::printf("  emulator CPU        %.2f s (whole child process)\n", emu_cpu);
    const bool met = errors == 0 && c.completed == streams && per_stream_kib <= 64.0;
    std::printf("  targets             %s (no errors, <= 64 KiB per stream)\n", met ? "met" : "NOT met");
    if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0)
        std::printf("  warning: the emulator process exited abnormally (status %d)\n", child_status);
    return met ? 0 : 1;
}
