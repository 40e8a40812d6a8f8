// bench_store: cost of the per-phase checkpoint (commit_phase = one transaction with the phase
// result and 3 events) with synchronous=NORMAL and FULL, through the blocking API and through
// the async facade (hop to the writer thread and back). The engine's budget is ≤ 200 µs of
// total overhead per phase; this is the store's share of it.
//
//   ./bench_store                 (prints us_per_op per case)
//   EP_BENCH_DIR=/path ./bench_store   to measure on another file system than the temp dir

#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace ep::persistence;

fs::path bench_dir()
{
    static std::atomic<int> counter{0};
    const char* env = std::getenv("EP_BENCH_DIR");
    const fs::path base = env ? fs::path(env) : fs::temp_directory_path();
    auto dir = base / ("ep-bench-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    return dir;
}

// A realistic checkpoint: ~2 KB of output, a small JSON output and three events.
struct checkpoint
{
    phase_record phase;
    std::vector<event_record> events;
};

checkpoint make_checkpoint(const std::string& run_id, std::int64_t n)
{
    checkpoint c;
    c.phase.run_id = run_id;
    c.phase.phase_id = "phase-" + std::to_string(n);
    c.phase.status = phase_status::completed;
    c.phase.output_text.assign(2048, 'x');
    c.phase.output_json = nlohmann::json{{"summary", "ok"}, {"files", {"a.cpp", "b.cpp"}}};
    c.phase.provider = "openai";
    c.phase.model = "gpt-4o-mini";
    c.phase.input_tokens = 1200;
    c.phase.output_tokens = 600;
    c.phase.cost_usd = 0.0012;
    c.phase.attempts = 1;
    for (const char* type : {"phase_started", "phase_completed", "text_delta"})
    {
        event_record e;
        e.type = type;
        e.payload = {{"phase", c.phase.phase_id}, {"provider", "openai"}, {"model", "gpt-4o-mini"}};
        c.events.push_back(std::move(e));
    }
    return c;
}

std::unique_ptr<sqlite_store> open_for_bench(const fs::path& dir, durability d, benchmark::State& state)
{
    sqlite_options options;
    options.sync = d;
    auto s = sqlite_store::open(dir / "runs.db", options);
    if (!s)
    {
        state.SkipWithError(s.error().to_string().c_str());
        return nullptr;
    }
    return std::move(*s);
}

// Wall-clock µs per commit over the whole timed loop (also shown as Time; kept as a named
// counter so scripts can grep it). CPU time matters too on a shared machine: the async case's
// CPU column is only the event-loop thread's share, which is the point of the facade.
void report(benchmark::State& state, std::chrono::steady_clock::time_point start)
{
    const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
    if (state.iterations() > 0)
        state.counters["us_per_op"] = elapsed.count() / static_cast<double>(state.iterations());
}

void bm_commit_phase_sync(benchmark::State& state)
{
    const auto d = static_cast<durability>(state.range(0));
    const auto dir = bench_dir();
    auto s = open_for_bench(dir, d, state);
    if (!s)
        return;
    run_record run;
    run.workflow = "bench";
    const auto id = s->create_run(run).value().id;
    // Built once: only the phase id changes per iteration (phase ids are unique per run), so
    // the timed loop measures the store, not building records.
    auto c = make_checkpoint(id, 0);
    std::int64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state)
    {
        c.phase.phase_id = "phase-" + std::to_string(n++);
        auto r = s->commit_phase(c.phase, c.events);
        if (!r)
        {
            state.SkipWithError(r.error().to_string().c_str());
            break;
        }
    }
    report(state, start);
    s.reset();
    fs::remove_all(dir);
}

void bm_commit_phase_async(benchmark::State& state)
{
    const auto d = static_cast<durability>(state.range(0));
    const auto dir = bench_dir();
    auto opened = open_for_bench(dir, d, state);
    if (!opened)
        return;
    std::shared_ptr<store> backend(std::move(opened));
    run_record run;
    run.workflow = "bench";
    const auto id = backend->create_run(run).value().id;
    const auto start = std::chrono::steady_clock::now();
    {
        asio::io_context ctx;
        async_store db(backend);
        // The whole timed loop runs inside one coroutine on the io_context, as the executor does:
        // each iteration is post → writer thread → commit → post back → resume.
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                auto c = make_checkpoint(id, 0);
                std::int64_t n = 0;
                for (auto _ : state)
                {
                    c.phase.phase_id = "phase-" + std::to_string(n++);
                    // By value, as the executor would pass them (the facade copies into the call).
                    auto r = co_await db.commit_phase(c.phase, c.events);
                    if (!r)
                    {
                        state.SkipWithError(r.error().to_string().c_str());
                        break;
                    }
                }
            },
            asio::detached);
        ctx.run();
    }
    report(state, start);
    backend.reset();
    fs::remove_all(dir);
}

}  // namespace

BENCHMARK(bm_commit_phase_sync)
    ->Arg(static_cast<int>(durability::normal))
    ->Arg(static_cast<int>(durability::full))
    ->ArgName("full")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_commit_phase_async)
    ->Arg(static_cast<int>(durability::normal))
    ->Arg(static_cast<int>(durability::full))
    ->ArgName("full")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
