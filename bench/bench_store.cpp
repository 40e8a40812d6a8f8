// bench_store: cost of the per-phase checkpoint (commit_phase = one transaction with the phase
// result and 3 events) on each backend, through the blocking API and through the async facade
// (hop to the writer thread and back), one at a time and 16 at once (group commit). Prints
// `us_per_op` (checkpoint latency, wall) and `checkpoints_per_s` for every case.
//
//   ./bench_store                          SQLite, NORMAL and FULL durability
//   EP_BENCH_DIR=/path ./bench_store       SQLite on another file system than the temp dir
//   EP_BENCH_PG_URI=postgresql://… ./bench_store --benchmark_filter=pg
//                                          PostgreSQL too (without it those cases are skipped);
//                                          tests/support/pg_cluster.sh start DIR --durable
//                                          starts a local server and prints its URI

#include <ep/persistence/async_store.hpp>
#include <ep/persistence/open_store.hpp>

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

enum class backend_kind
{
    sqlite,
    postgres,
};

// Where a case's store lives: a fresh SQLite file, or the PostgreSQL database EP_BENCH_PG_URI
// names (each case writes a run of its own there).
struct bench_target
{
    std::string uri;
    fs::path dir;  // SQLite only: removed afterwards
};

std::optional<bench_target> make_target(backend_kind kind, benchmark::State& state)
{
    if (kind == backend_kind::postgres)
    {
        const char* uri = std::getenv("EP_BENCH_PG_URI");
        if (uri == nullptr || *uri == '\0')
        {
            state.SkipWithError(
                "set EP_BENCH_PG_URI to a PostgreSQL URI (tests/support/pg_cluster.sh start DIR "
                "--durable prints one)");
            return std::nullopt;
        }
        return bench_target{uri, {}};
    }
    static std::atomic<int> counter{0};
    const char* env = std::getenv("EP_BENCH_DIR");
    const fs::path base = env ? fs::path(env) : fs::temp_directory_path();
    auto dir = base / ("ep-bench-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    return bench_target{(dir / "runs.db").string(), dir};
}

std::unique_ptr<store> open_for_bench(const bench_target& target, durability d, benchmark::State& state)
{
    store_options options;
    options.sync = d;
    auto s = open_store(target.uri, options);
    if (!s)
    {
        state.SkipWithError(s.error().to_string().c_str());
        return nullptr;
    }
    return std::move(*s);
}

// A realistic checkpoint: ~2 KB of output, a small JSON output and three events.
struct checkpoint
{
    phase_record phase;
    std::vector<event_record> events;
};

checkpoint make_checkpoint(const std::string& run_id)
{
    checkpoint c;
    c.phase.run_id = run_id;
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
        e.payload = {{"phase", "bench"}, {"provider", "openai"}, {"model", "gpt-4o-mini"}};
        c.events.push_back(std::move(e));
    }
    return c;
}

std::string new_bench_run(store& s, benchmark::State& state)
{
    run_record run;
    run.workflow = "bench";
    auto created = s.create_run(run);
    if (!created)
    {
        state.SkipWithError(created.error().to_string().c_str());
        return {};
    }
    return created->id;
}

// Wall-clock µs per checkpoint and checkpoints per second over the whole timed loop (also
// shown as Time; kept as named counters so scripts can grep them). On a shared machine the CPU
// column matters too: the async cases' CPU is only the event-loop thread's share.
void report(benchmark::State& state, std::chrono::steady_clock::time_point start, std::int64_t checkpoints)
{
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    if (checkpoints > 0 && elapsed.count() > 0)
    {
        state.counters["us_per_op"] = elapsed.count() * 1e6 / static_cast<double>(checkpoints);
        state.counters["checkpoints_per_s"] = static_cast<double>(checkpoints) / elapsed.count();
    }
}

void cleanup(std::unique_ptr<store>& s, const bench_target& target)
{
    s.reset();
    if (!target.dir.empty())
        fs::remove_all(target.dir);
}

void commit_phase_sync(benchmark::State& state, backend_kind kind)
{
    const auto target = make_target(kind, state);
    if (!target)
        return;
    auto s = open_for_bench(*target, static_cast<durability>(state.range(0)), state);
    if (!s)
        return;
    const auto id = new_bench_run(*s, state);
    // Built once: only the phase id changes per iteration (phase ids are unique per run), so
    // the timed loop measures the store, not building records.
    auto c = make_checkpoint(id);
    std::int64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state)
    {
        c.phase.phase_id = "phase-" + std::to_string(n++);
        if (auto r = s->commit_phase(c.phase, c.events); !r)
        {
            state.SkipWithError(r.error().to_string().c_str());
            break;
        }
    }
    report(state, start, n);
    cleanup(s, *target);
}

// `concurrency` coroutines commit one checkpoint after another, as that many parallel phases
// (or runs) would: with more than one, calls queue up on the writer and share group commits.
// One benchmark iteration lasts until `concurrency` more checkpoints have landed.
void commit_phase_async(benchmark::State& state, backend_kind kind)
{
    const auto concurrency = static_cast<int>(state.range(1));
    const auto target = make_target(kind, state);
    if (!target)
        return;
    auto opened = open_for_bench(*target, static_cast<durability>(state.range(0)), state);
    if (!opened)
        return;
    std::shared_ptr<store> backend(std::move(opened));
    const auto id = new_bench_run(*backend, state);
    std::int64_t landed = 0;
    std::int64_t next_phase = 0;
    bool stop = false;
    std::string error;
    std::int64_t timed = 0;
    const auto start = std::chrono::steady_clock::now();
    {
        asio::io_context ctx;
        async_store db(backend);
        for (int k = 0; k < concurrency; ++k)
            asio::co_spawn(
                ctx,
                [&]() -> asio::awaitable<void> {
                    auto c = make_checkpoint(id);
                    while (!stop)
                    {
                        c.phase.phase_id = "phase-" + std::to_string(next_phase++);
                        // By value, as the executor passes them (the facade copies into the call).
                        if (auto r = co_await db.commit_phase(c.phase, c.events); !r)
                        {
                            error = r.error().to_string();
                            stop = true;
                        }
                        ++landed;
                    }
                },
                asio::detached);
        for (auto _ : state)
        {
            const auto until = landed + concurrency;
            while (landed < until && !stop)
                ctx.run_one();
            if (stop)
            {
                state.SkipWithError(error.c_str());
                break;
            }
        }
        timed = landed;
        report(state, start, timed);
        stop = true;
        ctx.run();  // the checkpoints still in flight land; not timed
    }
    backend.reset();
    std::unique_ptr<store> none;
    cleanup(none, *target);
}

void bm_sqlite_sync(benchmark::State& state)
{
    commit_phase_sync(state, backend_kind::sqlite);
}
void bm_sqlite_async(benchmark::State& state)
{
    commit_phase_async(state, backend_kind::sqlite);
}
void bm_pg_sync(benchmark::State& state)
{
    commit_phase_sync(state, backend_kind::postgres);
}
void bm_pg_async(benchmark::State& state)
{
    commit_phase_async(state, backend_kind::postgres);
}

constexpr int normal = static_cast<int>(durability::normal);
constexpr int full = static_cast<int>(durability::full);

}  // namespace

BENCHMARK(bm_sqlite_sync)
    ->Arg(normal)
    ->Arg(full)
    ->ArgName("full")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_sqlite_async)
    ->Args({normal, 1})
    ->Args({full, 1})
    ->Args({normal, 16})
    ->ArgNames({"full", "concurrency"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_pg_sync)->Arg(normal)->Arg(full)->ArgName("full")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_pg_async)
    ->Args({normal, 1})
    ->Args({full, 1})
    ->Args({normal, 16})
    ->ArgNames({"full", "concurrency"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
