// async_store from coroutines on an io_context: results come back on the caller's executor,
// calls run in order on the writer thread, and the loop thread never runs the store itself.

#include "store_fixture.hpp"

#include <ep/persistence/async_store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>

namespace ep::persistence::test {
namespace {

namespace asio = boost::asio;

// Records the thread each call ran on, to prove the hop to the writer thread.
class thread_recording_store : public store
{
public:
    explicit thread_recording_store(std::unique_ptr<store> inner) : inner_(std::move(inner)) {}
    std::atomic<std::thread::id> last_thread{};

    result<run_record> create_run(run_record r) override { return note(), inner_->create_run(std::move(r)); }
    result<run_record> get_run(const std::string& id) override { return note(), inner_->get_run(id); }
    result<std::vector<run_record>> list_runs(std::size_t n) override { return note(), inner_->list_runs(n); }
    result<void> set_run_status(const std::string& id, run_status s, const std::string& e) override
    {
        return note(), inner_->set_run_status(id, s, e);
    }
    result<void> set_run_mix(const std::string& id, const std::string& m) override { return note(), inner_->set_run_mix(id, m); }
    result<run_record> acquire_lease(const std::string& id, const std::string& o, std::chrono::milliseconds t) override
    {
        return note(), inner_->acquire_lease(id, o, t);
    }
    result<void> renew_lease(const std::string& id, const std::string& o) override { return note(), inner_->renew_lease(id, o); }
    result<void> release_lease(const std::string& id, const std::string& o) override { return note(), inner_->release_lease(id, o); }
    result<void> begin_phase(const std::string& id, const std::string& p) override { return note(), inner_->begin_phase(id, p); }
    result<void> record_attempt(const attempt_record& a) override { return note(), inner_->record_attempt(a); }
    using store::commit_phase;
    result<std::int64_t> commit_phase(const phase_record& p, const std::vector<event_record>& e,
                                      const std::vector<attempt_record>& a) override
    {
        return note(), inner_->commit_phase(p, e, a);
    }
    result<std::int64_t> append_events(const std::string& id, const std::vector<event_record>& e) override
    {
        return note(), inner_->append_events(id, e);
    }
    result<std::vector<phase_record>> get_phases(const std::string& id) override { return note(), inner_->get_phases(id); }
    result<phase_record> get_phase(const std::string& id, const std::string& p) override { return note(), inner_->get_phase(id, p); }
    result<std::vector<attempt_record>> get_attempts(const std::string& id, const std::optional<std::string>& p) override
    {
        return note(), inner_->get_attempts(id, p);
    }
    result<std::vector<event_record>> get_events(const std::string& id, std::int64_t after, std::size_t n) override
    {
        return note(), inner_->get_events(id, after, n);
    }
    result<void> integrity_check() override { return note(), inner_->integrity_check(); }
    result<bool> begin_batch() override
    {
        auto r = inner_->begin_batch();
        if (r && *r)
            ++batches;
        return r;
    }
    result<void> end_batch() override
    {
        auto r = inner_->end_batch();
        if (fail_end_batch)
        {
            // Report a failed group commit (the inner one did commit: only the propagation of
            // the error to every call of the batch is under test here).
            return store_error(make_error_code(persistence_errc::disk_full), "injected: the batch did not commit");
        }
        return r;
    }
    std::atomic<int> batches{0};
    bool fail_end_batch = false;

private:
    void note() { last_thread = std::this_thread::get_id(); }
    std::unique_ptr<store> inner_;
};

// A backend whose every call throws: the facade must turn that into an error, not a crash.
class throwing_store final : public thread_recording_store
{
public:
    throwing_store() : thread_recording_store(nullptr) {}
    result<run_record> get_run(const std::string&) override { throw std::runtime_error("boom"); }
};

class async_store_fixture : public store_fixture
{
protected:
    void TearDown() override
    {
        // No leftover work: every coroutine and completion has run (MySQL's io_context fixture).
        EXPECT_EQ(ctx_.poll(), 0u);
        store_fixture::TearDown();
    }

    asio::io_context ctx_;
};

TEST_F(async_store_fixture, a_whole_phase_lifecycle_from_a_coroutine)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<thread_recording_store>(std::move(inner));
    async_store db(backend);
    const auto loop_thread = std::this_thread::get_id();
    bool finished = false;

    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            auto run = co_await db.create_run(make_run());
            EXPECT_TRUE(run) << (run ? "" : run.error().to_string());
            EXPECT_EQ(std::this_thread::get_id(), loop_thread);  // resumed on the caller's executor
            EXPECT_NE(backend->last_thread.load(), loop_thread);  // the store ran elsewhere

            auto lease = co_await db.acquire_lease(run->id, "host-a:1", std::chrono::seconds(30));
            EXPECT_TRUE(lease);
            EXPECT_TRUE(co_await db.begin_phase(run->id, "design"));
            attempt_record a;
            a.run_id = run->id;
            a.phase_id = "design";
            a.provider = "openai";
            EXPECT_TRUE(co_await db.record_attempt(a));
            auto seq = co_await db.commit_phase(make_phase(run->id, "design"), make_events("design", 3));
            EXPECT_TRUE(seq);
            EXPECT_EQ(seq.value(), 3);
            EXPECT_EQ((co_await db.append_events(run->id, make_events("x", 1))).value(), 4);
            EXPECT_TRUE(co_await db.set_run_status(run->id, run_status::completed));
            EXPECT_TRUE(co_await db.set_run_mix(run->id, "B"));
            EXPECT_TRUE(co_await db.renew_lease(run->id, "host-a:1"));
            EXPECT_TRUE(co_await db.release_lease(run->id, "host-a:1"));

            auto phases = co_await db.get_phases(run->id);
            EXPECT_EQ(phases.value().size(), 1u);
            EXPECT_EQ((co_await db.get_phase(run->id, "design")).value().output_text, "output of design");
            EXPECT_EQ((co_await db.get_attempts(run->id)).value().size(), 1u);
            EXPECT_EQ((co_await db.get_events(run->id, 2)).value().size(), 2u);
            auto listed = co_await db.list_runs(10);
            EXPECT_EQ(listed.value().front().status, run_status::completed);
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

TEST_F(async_store_fixture, the_loop_keeps_running_while_the_writer_works)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    async_store db(std::shared_ptr<store>(std::move(inner)));
    int ticks = 0;
    int commits = 0;
    // Many concurrent coroutines: their calls are queued FIFO on the one writer.
    std::string id = db.sync().create_run(make_run()).value().id;
    for (int i = 0; i < 20; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                auto r = co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), make_events("p", 3));
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
    auto events = db.sync().get_events(id);
    ASSERT_TRUE(events);
    EXPECT_EQ(events->size(), 60u);
    EXPECT_EQ(events->back().seq, 60);
}

TEST_F(async_store_fixture, concurrent_checkpoints_share_group_commits_and_all_land)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<thread_recording_store>(std::move(inner));
    async_store db(backend);
    std::string id = db.sync().create_run(make_run()).value().id;
    int ok = 0;
    constexpr int n = 200;
    for (int i = 0; i < n; ++i)
        asio::co_spawn(
            ctx_,
            [&, i]() -> asio::awaitable<void> {
                // begin + commit, as the executor does: both queue behind the others.
                EXPECT_TRUE(co_await db.begin_phase(id, "p" + std::to_string(i)));
                auto r = co_await db.commit_phase(make_phase(id, "p" + std::to_string(i)), make_events("p", 2));
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

TEST_F(async_store_fixture, a_refused_call_among_concurrent_ones_undoes_only_itself)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    async_store db(std::shared_ptr<store>(std::move(inner)));
    std::string id = db.sync().create_run(make_run()).value().id;
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

TEST_F(async_store_fixture, a_failed_group_commit_fails_every_call_of_the_batch)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    auto backend = std::make_shared<thread_recording_store>(std::move(inner));
    backend->fail_end_batch = true;
    async_store db(backend);
    std::string id = db.sync().create_run(make_run()).value().id;
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

TEST_F(async_store_fixture, an_exception_in_the_backend_becomes_an_error)
{
    async_store db(std::make_shared<throwing_store>());
    bool finished = false;
    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            auto r = co_await db.get_run("x");
            EXPECT_FALSE(r);
            if (!r)
            {
                EXPECT_EQ(r.error().code, persistence_errc::io_error);
                EXPECT_NE(r.error().message.find("boom"), std::string::npos);
            }
            finished = true;
        },
        asio::detached);
    ctx_.run();
    EXPECT_TRUE(finished);
}

TEST_F(async_store_fixture, destroying_the_facade_completes_queued_writes)
{
    auto inner = open_store();
    ASSERT_TRUE(inner);
    std::shared_ptr<store> backend(std::move(inner));
    std::string id = backend->create_run(make_run()).value().id;
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
    }  // the destructor waits for the writer to drain
    EXPECT_EQ(backend->get_phases(id)->size(), 10u);
    ctx_.run();  // deliver the completions
    EXPECT_EQ(completions, 10);
}

}  // namespace
}  // namespace ep::persistence::test
