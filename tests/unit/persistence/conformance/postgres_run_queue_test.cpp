// PostgreSQL only: ep-worker's run queue. Claims (each runnable run once, never a live one),
// fencing (a worker presumed dead cannot write over a reclaimed run), reclaim after expiry,
// requeue, and LISTEN/NOTIFY waking an idle worker.

#include "postgres_server.hpp"
#include "record_builders.hpp"

#include <ep/persistence/open_store.hpp>
#include <ep/persistence/run_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

namespace ep::persistence::conformance {
namespace {

using namespace ep::persistence::test;
using namespace std::chrono_literals;

constexpr auto ttl = 30s;

class postgres_run_queue_test : public ::testing::Test
{
protected:
    void SetUp() override
    {
        std::string why;
        auto server = postgres_server_uri(why);
        if (!server)
            GTEST_SKIP() << "PostgreSQL is not available: " << why;
        schema_ = std::make_unique<postgres_schema>(*server, ::testing::UnitTest::GetInstance()->current_test_info()->name());
        options_.clock = [this] { return timestamp(std::chrono::milliseconds(now_ms_.load())); };
    }

    std::unique_ptr<store> open_store_()
    {
        auto r = open_store(schema_->uri(), options_);
        EXPECT_TRUE(r) << r.error().to_string();
        return r ? std::move(*r) : nullptr;
    }
    std::unique_ptr<run_queue> open_queue()
    {
        auto r = run_queue::open(schema_->uri(), options_);
        EXPECT_TRUE(r) << r.error().to_string();
        return r ? std::move(*r) : nullptr;
    }
    std::string submit(store& s)
    {
        auto run = make_run();
        run.status = run_status::pending;
        auto r = s.create_run(run);
        EXPECT_TRUE(r) << r.error().to_string();
        return r ? r->id : std::string();
    }
    void advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }

    std::unique_ptr<postgres_schema> schema_;
    std::atomic<std::int64_t> now_ms_{1'700'000'000'000};
    store_options options_;
};

TEST_F(postgres_run_queue_test, concurrent_claimers_take_each_runnable_run_exactly_once)
{
    auto s = open_store_();
    std::set<std::string> submitted;
    for (int i = 0; i < 20; ++i)
        submitted.insert(submit(*s));
    // Not runnable: a run leased to a live owner, a completed run, a run waiting at a gate.
    auto live = make_run();
    live.owner = "someone-alive";
    const auto live_id = s->create_run(live)->id;
    const auto done_id = submit(*s);
    ASSERT_TRUE(s->set_run_status(done_id, run_status::completed));
    const auto gate_id = submit(*s);
    ASSERT_TRUE(s->set_run_status(gate_id, run_status::waiting));

    auto claim_all = [&](const std::string& owner) {
        auto q = open_queue();
        std::vector<std::string> got;
        for (;;)
        {
            auto c = q->claim(owner, ttl);
            EXPECT_TRUE(c) << c.error().to_string();
            if (!c || !*c)
                return got;
            EXPECT_EQ((*c)->fence, 1) << "a fresh run's first claim";
            EXPECT_FALSE((*c)->reclaimed);
            got.push_back((*c)->run_id);
        }
    };
    auto a = std::async(std::launch::async, claim_all, "worker-a");
    auto b = std::async(std::launch::async, claim_all, "worker-b");
    auto c = std::async(std::launch::async, claim_all, "worker-c");
    std::multiset<std::string> claimed;
    for (auto* f : {&a, &b, &c})
        for (const auto& id : f->get())
            claimed.insert(id);
    EXPECT_EQ(claimed.size(), submitted.size()) << "a run claimed twice or not at all";
    EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()), submitted);
    EXPECT_EQ(s->get_run(live_id)->owner, "someone-alive");
}

TEST_F(postgres_run_queue_test, an_expired_lease_is_reclaimed_and_a_live_one_is_not)
{
    auto s = open_store_();
    const auto id = submit(*s);
    auto q = open_queue();
    auto first = q->claim("worker-a", ttl);
    ASSERT_TRUE(first && *first);
    advance(ttl - 1s);
    auto early = q->claim("worker-b", ttl);
    ASSERT_TRUE(early);
    EXPECT_FALSE(*early) << "claimed while its owner's heartbeat is fresh";
    advance(2s);
    auto late = q->claim("worker-b", ttl);
    ASSERT_TRUE(late && *late);
    EXPECT_EQ((*late)->run_id, id);
    EXPECT_TRUE((*late)->reclaimed);
    EXPECT_GT((*late)->fence, (*first)->fence);
    EXPECT_EQ((*late)->waited, 1s) << "runnable since the lease expired";
    EXPECT_EQ(s->get_run(id)->owner, "worker-b");
}

TEST_F(postgres_run_queue_test, a_worker_presumed_dead_cannot_overwrite_a_reclaimed_run)
{
    auto setup = open_store_();
    const auto id = submit(*setup);
    auto q = open_queue();
    // Worker A claims and leases the run, begins a phase... and stalls past its lease.
    auto stale = open_store_();
    ASSERT_TRUE(q->claim("worker", ttl).value());
    ASSERT_TRUE(stale->acquire_lease(id, "worker", ttl)) << "its own claim";
    ASSERT_TRUE(stale->begin_phase(id, "design"));
    advance(ttl + 1s);
    // Worker B (started with the same --id after a restart: names do not protect, fences do)
    // reclaims it, and commits the phase.
    auto fresh = open_store_();
    auto reclaimed = q->claim("worker", ttl);
    ASSERT_TRUE(reclaimed && *reclaimed);
    ASSERT_TRUE(fresh->acquire_lease(id, "worker", ttl));
    auto b_phase = make_phase(id, "design");
    b_phase.output_text = "B's output";
    ASSERT_TRUE(fresh->commit_phase(b_phase, make_events("design", 1)));

    // A wakes up: every write it tries is refused as lease lost, and changes nothing.
    auto a_phase = make_phase(id, "review");
    auto committed = stale->commit_phase(a_phase, make_events("review", 2));
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().code, persistence_errc::lease_held) << committed.error().to_string();
    EXPECT_NE(committed.error().message.find("lease lost"), std::string::npos) << committed.error().message;
    EXPECT_EQ(stale->begin_phase(id, "review").error().code, persistence_errc::lease_held);
    EXPECT_EQ(stale->append_events(id, make_events("x", 1)).error().code, persistence_errc::lease_held);
    EXPECT_EQ(stale->set_run_status(id, run_status::failed, "A's verdict").error().code,
              persistence_errc::lease_held);
    EXPECT_EQ(stale->renew_lease(id, "worker").error().code, persistence_errc::lease_held);
    EXPECT_FALSE(stale->release_lease(id, "worker")) << "A may not free B's lease";

    EXPECT_EQ(fresh->get_phase(id, "review").error().code, persistence_errc::not_found);
    EXPECT_EQ(fresh->get_phase(id, "design")->output_text, "B's output");
    EXPECT_EQ(fresh->get_events(id)->size(), 1u) << "A's events were not appended";
    auto run = fresh->get_run(id);
    EXPECT_EQ(run->status, run_status::pending);
    EXPECT_EQ(run->owner, "worker");
    EXPECT_TRUE(fresh->integrity_check());
    // B keeps working normally.
    EXPECT_TRUE(fresh->renew_lease(id, "worker"));
    EXPECT_TRUE(fresh->set_run_status(id, run_status::completed));
    EXPECT_TRUE(fresh->release_lease(id, "worker"));
}

TEST_F(postgres_run_queue_test, a_stopped_run_is_requeued_and_claimed_again)
{
    auto s = open_store_();
    const auto id = submit(*s);
    auto q = open_queue();
    ASSERT_TRUE(q->claim("worker-a", ttl).value());
    EXPECT_FALSE(q->requeue(id).value()) << "still leased: not requeued";
    ASSERT_TRUE(s->acquire_lease(id, "worker-a", ttl));
    ASSERT_TRUE(s->set_run_status(id, run_status::interrupted, "stopped"));
    ASSERT_TRUE(s->release_lease(id, "worker-a"));
    EXPECT_FALSE(q->claim("worker-b", ttl).value()) << "an interrupted run is not runnable";
    EXPECT_TRUE(q->requeue(id).value());
    auto again = q->claim("worker-b", ttl);
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->run_id, id);
    EXPECT_EQ(s->get_run(id)->status, run_status::pending);
}

TEST_F(postgres_run_queue_test, notify_wakes_an_idle_worker_and_silence_lets_it_sleep)
{
    auto s = open_store_();
    auto q = open_queue();
    ASSERT_TRUE(q->wait_for_work(10ms)) << "the first call starts listening";
    // NOTIFY is database-wide and the other Postgres tests (other schemas of the same database)
    // run alongside and notify: one of a few waits must time out without being woken.
    bool slept = false;
    for (int i = 0; i < 8 && !slept; ++i)
    {
        auto quiet = q->wait_for_work(300ms);
        ASSERT_TRUE(quiet);
        slept = !*quiet;
    }
    EXPECT_TRUE(slept) << "woken every time without a notification of its own";

    const auto start = std::chrono::steady_clock::now();
    auto submitter = std::async(std::launch::async, [&] {
        std::this_thread::sleep_for(200ms);
        auto other = open_store_();
        return submit(*other);
    });
    auto woke = q->wait_for_work(20s);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(woke) << woke.error().to_string();
    EXPECT_TRUE(*woke);
    EXPECT_LT(waited, 10s) << "slept through the NOTIFY";
    const auto id = submitter.get();
    auto c = q->claim("worker", ttl);
    ASSERT_TRUE(c && *c);
    EXPECT_EQ((*c)->run_id, id);
}

TEST_F(postgres_run_queue_test, a_sqlite_store_cannot_be_shared_by_workers)
{
    auto r = run_queue::open("sqlite:/tmp/ep-worker-test.db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::invalid_argument);
    EXPECT_NE(r.error().message.find("PostgreSQL"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ep::persistence::conformance
