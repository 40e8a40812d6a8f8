// Throughput: 1,000 concurrent 3-phase runs through the runtime (the wiring ep-run and
// ep-serve use: store, router, failover, executor) on one io_context, against an in-process
// provider that answers after 20 ms (so the runs really are in flight together). Prints
// phases/s and the resident memory per in-flight run. Targets: ≥ 5,000 phases/s on 2 cores,
// ≤ 50 KiB per run.
#include "engine_bench_setup.hpp"

#include <ep/allocator_tuning.hpp>
#include <ep/engine/run/event_loop.hpp>
#include <ep/runtime/runtime.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ee = ep::engine;
namespace pv = ep::providers;
namespace ps = ep::persistence;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

long rss_kib()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

// Shared by every run's provider object: counts calls in flight.
struct flight_counter
{
    int in_flight = 0;
    int peak = 0;
    long peak_rss = 0;
};

class delayed_provider final : public pv::provider
{
public:
    delayed_provider(pv::provider_config cfg, flight_counter& counter) : cfg_(std::move(cfg)), counter_(counter) {}
    const pv::provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<pv::call_status> stream_chat(const pv::chat_request&, pv::event_channel& out) override
    {
        if (++counter_.in_flight > counter_.peak)
        {
            counter_.peak = counter_.in_flight;
            counter_.peak_rss = rss_kib();
        }
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        --counter_.in_flight;
        std::vector<pv::stream_event> evs;  // named: see bench_engine_overhead.cpp
        evs.emplace_back(pv::text_delta_event{"answer"});
        evs.emplace_back(pv::finish_event{});
        for (auto& ev : evs)
        {
            boost::system::error_code none;
            co_await out.async_send(none, std::move(ev), asio::as_tuple(asio::use_awaitable));
        }
        co_return pv::call_status{};
    }

private:
    pv::provider_config cfg_;
    flight_counter& counter_;
};

}  // namespace

int main(int argc, char** argv)
{
    ep::tune_allocator_for_throughput();  // as ep-run does
    const int runs = argc > 1 ? std::stoi(argv[1]) : 1000;
    const std::string yaml = "name: three\nphases:\n"
                             "  a: {persona: code_writer_openai, prompt: a}\n"
                             "  b: {persona: code_writer_openai, prompt: b, needs: [a]}\n"
                             "  c: {persona: code_writer_openai, prompt: c, needs: [b]}\n";
    const auto dir = std::filesystem::temp_directory_path() / "ep-bench-throughput";
    std::filesystem::remove_all(dir);
    flight_counter counter;
    asio::io_context ioc;
    ep::runtime::runtime_config cfg;
    cfg.env = ep::environment::from_map({{"EP_OPENAI_API_KEY", "unused"}});
    cfg.workflows_dir = EP_SOURCE_WORKFLOWS_DIR;
    cfg.store = (dir / "runs.db").string();
    cfg.make_provider = [&](const pv::provider_config& c) { return std::make_shared<delayed_provider>(c, counter); };
    int completed = 0;
    const long base_rss = rss_kib();
    clock_type::duration wall{};
    {
        ep::runtime::runtime rt(ioc.get_executor(), cfg);
        ep::runtime::prepare_options popts;
        popts.config = "D";
        auto prepared = rt.prepare({{}, yaml, "three.yaml"}, popts);
        if (!prepared)
        {
            std::fprintf(stderr, "%s\n%s", prepared.error().message.c_str(), prepared.error().details.str().c_str());
            return 2;
        }
        auto wf = std::make_shared<const ep::runtime::prepared_workflow>(std::move(*prepared));
        ep::bench::null_sink sink;
        const auto t0 = clock_type::now();
        for (int i = 0; i < runs; ++i)
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    const ep::runtime::run_options options;
                    auto out = co_await rt.run(wf, sink, nullptr, options);
                    if (out && out->status == ps::run_status::completed)
                        ++completed;
                    else if (!out)
                        std::fprintf(stderr, "run: %s\n", out.error().message.c_str());
                },
                asio::detached);
        ee::run_event_loop(ioc, [&rt] { return rt.store_call_in_flight(); });  // as ep-run does
        wall = clock_type::now() - t0;
    }
    std::filesystem::remove_all(dir);
    const double secs = std::chrono::duration<double>(wall).count();
    std::printf("runs completed:          %d/%d (3 phases each, through the runtime)\n", completed, runs);
    std::printf("wall time:               %.2f s\n", secs);
    std::printf("throughput:              %.0f phases/s (target >= 5000)\n", 3.0 * completed / secs);
    std::printf("peak provider calls:     %d in flight\n", counter.peak);
    if (counter.peak > 0)
        std::printf("memory per in-flight run: %.1f KiB (RSS delta at peak / runs in flight; target <= 50 KiB)\n",
                    static_cast<double>(counter.peak_rss - base_rss) / counter.peak);
    return completed == runs ? 0 : 1;
}
