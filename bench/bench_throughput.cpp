// Throughput: 1,000 concurrent 3-phase runs on one io_context against a provider that answers
// after 20 ms (so the runs really are in flight together). Prints phases/s and the resident
// memory per in-flight run. Targets (issue 5): ≥ 2,000 phases/s on 2 cores, ≤ 50 KiB per run.
#include "engine_bench_setup.hpp"

#include <ep/allocator_tuning.hpp>
#include <ep/engine/run/event_loop.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

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

class delayed_provider final : public pv::provider
{
public:
    delayed_provider()
    {
        cfg_.name = "fake";
        cfg_.type = "openai";
        cfg_.available = true;
        pv::model_info mi;
        mi.id = "m";
        cfg_.models.push_back(mi);
    }
    const pv::provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<pv::call_status> stream_chat(const pv::chat_request&, pv::event_channel& out) override
    {
        ++in_flight;
        if (in_flight > peak)
        {
            peak = in_flight;
            peak_rss = rss_kib();
        }
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        --in_flight;
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
    int in_flight = 0;
    int peak = 0;
    long peak_rss = 0;

private:
    pv::provider_config cfg_;
};

}  // namespace

int main(int argc, char** argv)
{
    ep::tune_allocator_for_throughput();  // as ep-run does
    const int runs = argc > 1 ? std::stoi(argv[1]) : 1000;
    const std::string yaml = "name: three\nphases:\n"
                             "  a: {persona: w, prompt: a}\n"
                             "  b: {persona: w, prompt: b, needs: [a]}\n"
                             "  c: {persona: w, prompt: c, needs: [b]}\n";
    auto prov = std::make_shared<delayed_provider>();
    ep::bench::engine_bench_setup setup;
    if (!setup.load(yaml, prov))
        return 2;

    const auto dir = std::filesystem::temp_directory_path() / "ep-bench-throughput";
    std::filesystem::remove_all(dir);
    auto opened = ps::sqlite_store::open(dir / "runs.db");
    if (!opened)
        return 1;
    asio::io_context ioc;
    int completed = 0;
    const long base_rss = rss_kib();
    clock_type::duration wall{};
    {
        ps::async_store store(std::shared_ptr<ps::store>(std::move(*opened)));
        ee::failover_executor failover;
        ee::workflow_executor exec(
            store, setup.pol, setup.candidates(), failover);
        ep::bench::null_sink sink;
        auto req = setup.request();
        const auto t0 = clock_type::now();
        for (int i = 0; i < runs; ++i)
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    auto out = co_await exec.run(req, sink);
                    if (out && out->status == ps::run_status::completed)
                        ++completed;
                },
                asio::detached);
        ee::run_event_loop(ioc);  // as ep-run does
        wall = clock_type::now() - t0;
    }
    std::filesystem::remove_all(dir);
    const double secs = std::chrono::duration<double>(wall).count();
    std::printf("runs completed:          %d/%d (3 phases each)\n", completed, runs);
    std::printf("wall time:               %.2f s\n", secs);
    std::printf("throughput:              %.0f phases/s (target >= 2000)\n", 3.0 * completed / secs);
    std::printf("peak provider calls:     %d in flight\n", prov->peak);
    if (prov->peak > 0)
        std::printf("memory per in-flight run: %.1f KiB (RSS delta at peak / runs in flight; target <= 50 KiB)\n",
                    static_cast<double>(prov->peak_rss - base_rss) / prov->peak);
    return completed == runs ? 0 : 1;
}
