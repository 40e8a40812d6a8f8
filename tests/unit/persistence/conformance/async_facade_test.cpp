// async_store over the backend, from coroutines on an io_context: results come back on the
// caller's executor, calls run in order on the writer thread, queued calls share group
// commits, and a failed batch fails every call of it.

#include "conformance.hpp"
#include "forwarding_store.hpp"

#include <ep/persistence/async_store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ep::persistence::conformance {
namespace {

namespace asio = boost::asio;

TEST_P(async_facade, a_whole_phase_lifecycle_from_a_coroutine)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<forwarding_store>(std::move(inner));
    async_store db(backend);
    const auto loop_thread = std::this_thread::get_id();
    bool finished = false;

    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            auto run = co_await db.create_run(make_run());
            EXPECT_TRUE(run) << (run ? "" : run.error().to_string());
            EXPECT_EQ(std::this_thread::get_id(), loop_thread);   // resumed on the caller's executor
            EXPECT_NE(backend->last_thread.load(), loop_thread);  // the store ran elsewhere

            EXPECT_TRUE(co_await db.acquire_lease(run->id, "host-a:1", std::chrono::seconds(30)));
            EXPECT_TRUE(co_await db.begin_phase(run->id, "design"));
            EXPECT_TRUE(co_await db.record_attempt(make_attempt(run->id, "design", 1)));
            auto seq = co_await db.commit_phase(make_phase(run->id, "design"), make_events("design", 3));
            EXPECT_TRUE(seq);
            EXPECT_EQ(seq.value(), 3);
            EXPECT_EQ((co_await db.append_events(run->id, make_events("x", 1))).value(), 4);
            EXPECT_TRUE(co_await db.set_run_status(run->id, run_status::completed));
            EXPECT_TRUE(co_await db.set_run_mix(run->id, "B"));
            EXPECT_TRUE(co_await db.renew_lease(run->id, "host-a:1"));
            EXPECT_TRUE(co_await db.release_lease(run->id, "host-a:1"));

            EXPECT_EQ((co_await db.get_phases(run->id)).value().size(), 1u);
            EXPECT_EQ((co_await db.get_phase(run->id, "design")).value().output_text, "output of design");
            EXPECT_EQ((co_await db.get_attempts(run->id)).value().size(), 1u);
            EXPECT_EQ((co_await db.get_events(run->id, 2)).value().size(), 2u);
            auto listed = co_await db.list_runs(10);
            EXPECT_EQ(listed.value().front().status, run_status::completed);
            EXPECT_EQ((co_await db.get_run(run->id)).value().mix, "B");
            EXPECT_TRUE(co_await db.integrity_check());
            auto missing = co_await db.get_run("nope");
            EXPECT_EQ(missing.error().code, persistence_errc::not_found);
            EXPECT_EQ(std::this_thread::get_id(), loop_thread);
            finished = true;
        },
        asio::detached);
    ctx_.run();
    EXPECT_TRUE(finished);

    // The synchronous accessor needs no io_context.
    auto runs = db.sync().list_runs(10);
    ASSERT_TRUE(runs);
    EXPECT_EQ(runs->front().mix, "B");
}

TEST_P(async_facade, the_control_flow_calls_reach_the_backend)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<forwarding_store>(std::move(inner));
    async_store db(backend);
    bool finished = false;
    // Built outside the coroutine: g++ 12 rejects a braced initializer list across a co_await
    // ("array used as initializer").
    const auto source_run = make_run("a");
    auto fork = make_run("b");
    const std::string build = "build";
    const std::vector<std::string> phases{build};
    const nlohmann::json options{{"git", true}};
    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            const auto from = (co_await db.create_run(source_run)).value().id;
            fork.parent_run_id = from;
            const auto to = (co_await db.create_run(fork)).value().id;
            EXPECT_TRUE(co_await db.begin_phase(from, build, 2, 3));
            auto p = make_phase(from, build);
            p.iteration = 2;
            p.item = 3;
            EXPECT_TRUE(co_await db.commit_phase(p, std::vector<event_record>()));
            EXPECT_EQ((co_await db.get_phase(from, build, 2, 3)).value().status, phase_status::completed);
            EXPECT_EQ((co_await db.get_phase(from, build)).error().code, persistence_errc::not_found);
            EXPECT_TRUE(co_await db.copy_phases(from, to, phases));
            EXPECT_TRUE(co_await db.get_phase(to, build, 2, 3));
            EXPECT_TRUE(co_await db.set_run_options(to, options));
            run_filter f;
            f.workflow = fork.workflow;
            auto listed = co_await db.list_runs(f);
            EXPECT_EQ(listed.value().size(), 1u);
            EXPECT_EQ(listed.value().front().options, options);
            EXPECT_EQ(listed.value().front().parent_run_id, from);
            EXPECT_EQ((co_await db.list_runs(1)).value().size(), 1u);
            EXPECT_NE(backend->last_thread.load(), std::this_thread::get_id());
            finished = true;
        },
        asio::detached);
    ctx_.run();
    EXPECT_TRUE(finished);
}

TEST_P(async_facade, the_loop_keeps_running_while_the_writer_works)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    async_store db(std::shared_ptr<store>(std::move(inner)));
    int ticks = 0;
    int commits = 0;
    // Many concurrent coroutines: their calls are queued FIFO on the one writer.
    const std::string id = db.sync().create_run(make_run()).value().id;
    for (int i = 0; i < 20; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                auto r =
                    co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), make_events("p", 3));
                EXPECT_TRUE(r);
                ++commits;
            },
            asio::detached);
    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(ctx_);
            for (int i = 0; i < 3; ++i)
            {
                t.expires_after(std::chrono::milliseconds(1));
                co_await t.async_wait(asio::use_awaitable);
                ++ticks;
            }
        },
        asio::detached);
    ctx_.run();
    EXPECT_EQ(commits, 20);
    EXPECT_EQ(ticks, 3);
    auto got = db.sync().get_events(id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), 60u);
    EXPECT_EQ(got->back().seq, 60);
}

TEST_P(async_facade, concurrent_checkpoints_share_group_commits_and_all_land)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<forwarding_store>(std::move(inner));
    async_store db(backend);
    const std::string id = db.sync().create_run(make_run()).value().id;
    int ok = 0;
    constexpr int n = 200;
    for (int i = 0; i < n; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                // begin + commit, as the executor does: both queue behind the others.
                EXPECT_TRUE(co_await db.begin_phase(id, "p" + std::to_string(i)));
                auto r =
                    co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), make_events("p", 2));
                EXPECT_TRUE(r);
                ok += r.has_value();
            },
            asio::detached);
    ctx_.run();
    EXPECT_EQ(ok, n);
    EXPECT_GT(backend->batches.load(), 0);  // the calls queued up and were grouped
    EXPECT_LT(backend->batches.load(), 2 * n);
    EXPECT_EQ(db.sync().get_phases(id)->size(), static_cast<std::size_t>(n));
    EXPECT_EQ(db.sync().get_events(id)->size(), static_cast<std::size_t>(2 * n));
    EXPECT_TRUE(db.sync().integrity_check());
}

TEST_P(async_facade, a_refused_call_among_concurrent_ones_undoes_only_itself)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    async_store db(std::shared_ptr<store>(std::move(inner)));
    const std::string id = db.sync().create_run(make_run()).value().id;
    ASSERT_TRUE(db.sync().commit_phase(make_phase(id, "done"), {}));
    std::vector<bool> results(3);
    // Issued together (usually one batch): the middle one is refused (already completed).
    const char* phases[] = {"a", "done", "b"};
    for (int i = 0; i < 3; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                auto r = co_await db.commit_phase(make_phase(id, phases[i]), make_events(phases[i], 1));
                results[i] = r.has_value();
            },
            asio::detached);
    ctx_.run();
    EXPECT_EQ(results, (std::vector<bool>{true, false, true}));
    EXPECT_EQ(db.sync().get_phases(id)->size(), 3u);
    EXPECT_EQ(db.sync().get_events(id)->size(), 2u);  // the refused call's event is gone
}

TEST_P(async_facade, a_failed_group_commit_fails_every_call_of_the_batch)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<forwarding_store>(std::move(inner));
    backend->fail_end_batch = true;
    async_store db(backend);
    const std::string id = db.sync().create_run(make_run()).value().id;
    int failed = 0;
    int succeeded = 0;
    for (int i = 0; i < 50; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                auto r = co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), {});
                if (r)
                    ++succeeded;
                else
                {
                    EXPECT_EQ(r.error().code, persistence_errc::disk_full);
                    ++failed;
                }
            },
            asio::detached);
    ctx_.run();
    EXPECT_EQ(failed + succeeded, 50);
    ASSERT_GT(backend->batches.load(), 0);
    EXPECT_GT(failed, 0);  // every call of a batch sees the batch's error, none a false success
}

TEST_P(async_facade, destroying_the_facade_completes_queued_writes)
{
    auto inner = open();
    ASSERT_TRUE(inner);
    std::shared_ptr<store> backend(std::move(inner));
    const std::string id = backend->create_run(make_run()).value().id;
    int completions = 0;
    {
        async_store db(backend);
        for (int i = 0; i < 10; ++i)
            asio::co_spawn(
                ctx_,
                [&, i]() -> asio::awaitable<void> {
                    auto r = co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), {});
                    EXPECT_TRUE(r);
                    ++completions;
                },
                asio::detached);
        ctx_.poll();  // starts the coroutines: all ten calls are now queued on the writer
    }                 // the destructor waits for the writer to drain
    EXPECT_EQ(backend->get_phases(id)->size(), 10u);
    ctx_.run();  // deliver the completions
    EXPECT_EQ(completions, 10);
}

}  // namespace
}  // namespace ep::persistence::conformance
