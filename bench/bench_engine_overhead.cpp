// Engine overhead per phase: wall time of a run minus the time spent inside the provider,
// divided by the phases, checkpoint included. The provider answers at once (zero latency), the
// run is a 50-phase chain at concurrency 1, the store is SQLite (durability normal) in
// TMPDIR (default /tmp; the figure depends on that file system). Prints the overall figure and
// its spread over the runs (EP_BENCH_TRACE=1 prints each run's).
// Target (issue 5): ≤ 200 µs per phase.
#include "engine_bench_setup.hpp"

#include <ep/allocator_tuning.hpp>
#include <ep/engine/run/event_loop.hpp>

#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

namespace ee = ep::engine;
namespace pv = ep::providers;
namespace ps = ep::persistence;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

class instant_provider final : public pv::provider
{
public:
    instant_provider()
    {
        cfg_.name = "instant";
        cfg_.type = "openai";
        cfg_.available = true;
        pv::model_info mi;
        mi.id = "m";
        cfg_.models.push_back(mi);
    }
    const pv::provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<pv::call_status> stream_chat(const pv::chat_request&, pv::event_channel& out) override
    {
        const auto t0 = clock_type::now();
        // Named events: g++ 12 mis-destroys temporaries in a co_await's full expression.
        std::vector<pv::stream_event> evs;
        evs.emplace_back(pv::text_delta_event{"answer"});
        evs.emplace_back(pv::usage_event{{10, 5, 0, std::nullopt}});
        evs.emplace_back(pv::finish_event{});
        for (auto& ev : evs)
        {
            boost::system::error_code none;
            co_await out.async_send(none, std::move(ev), asio::as_tuple(asio::use_awaitable));
        }
        provider_time += clock_type::now() - t0;
        co_return pv::call_status{};
    }
    clock_type::duration provider_time{};

private:
    pv::provider_config cfg_;
};

}  // namespace

int main()
{
    ep::tune_allocator_for_throughput();  // as ep-run does
    constexpr int phases = 50;
    constexpr int runs = 40;
    std::string yaml = "name: chain\nphases:\n";
    for (int i = 0; i < phases; ++i)
    {
        yaml += "  p" + std::to_string(i) + ":\n    persona: w\n    prompt: \"step " + std::to_string(i) + "\"\n";
        if (i > 0)
            yaml += "    needs: [p" + std::to_string(i - 1) + "]\n";
    }
    auto prov = std::make_shared<instant_provider>();
    ep::bench::engine_bench_setup setup;
    if (!setup.load(yaml, prov))
        return 2;

    const auto dir = std::filesystem::temp_directory_path() / "ep-bench-overhead";
    std::filesystem::remove_all(dir);
    auto opened = ps::sqlite_store::open(dir / "runs.db");
    if (!opened)
        return 1;
    asio::io_context ioc(1);
    // Overhead per phase of each run, for the spread: a VM's timing noise comes in bursts, and
    // WAL checkpoints land in some runs only.
    std::vector<double> per_run_us;
    double wall_us = 0;
    double provider_us = 0;
    int completed = 0;
    const auto us = [](clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); };
    {
        ps::async_store store(std::shared_ptr<ps::store>(std::move(*opened)));
        ee::failover_executor failover;
        ee::executor_options opts;
        opts.max_concurrency = 1;
        ee::workflow_executor exec(store, setup.pol, setup.candidates(), failover, opts);
        ep::bench::null_sink sink;
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                for (int r = 0; r < runs; ++r)
                {
                    auto req = setup.request();
                    const auto provider_before = prov->provider_time;
                    const auto t0 = clock_type::now();
                    auto out = co_await exec.run(req, sink);
                    const auto wall = clock_type::now() - t0;
                    const auto provider = prov->provider_time - provider_before;
                    wall_us += us(wall);
                    provider_us += us(provider);
                    per_run_us.push_back((us(wall) - us(provider)) / phases);
                    if (std::getenv("EP_BENCH_TRACE") != nullptr)  // each run's figure, on stderr
                        std::fprintf(stderr, "run %d: %.0f us\n", r + 1, per_run_us.back());
                    if (out && out->status == ps::run_status::completed)
                        ++completed;
                }
            },
            asio::detached);
        ee::run_event_loop(ioc, [&store] { return store.calls_in_flight() > 0; });  // as ep-run does
    }
    std::filesystem::remove_all(dir);
    std::sort(per_run_us.begin(), per_run_us.end());
    const auto at = [&](double q) { return per_run_us[static_cast<std::size_t>(q * (per_run_us.size() - 1))]; };
    const double total_phases = static_cast<double>(phases) * runs;
    std::printf("runs completed:              %d/%d (%d phases each, concurrency 1, store on %s)\n", completed, runs,
                phases, dir.parent_path().c_str());
    std::printf("wall time per phase:         %.1f us (mean)\n", wall_us / total_phases);
    std::printf("provider time per phase:     %.1f us (mean)\n", provider_us / total_phases);
    std::printf("overhead per phase, by run:  p10 %.1f us, median %.1f us, p90 %.1f us (the runs that hold a WAL "
                "checkpoint are the slow ones)\n",
                at(0.1), at(0.5), at(0.9));
    std::printf("engine overhead per phase:   %.1f us (every phase of every run; target <= 200 us, checkpoints "
                "included)\n",
                (wall_us - provider_us) / total_phases);
    return completed == runs ? 0 : 1;
}
