// One live owner per run: the heartbeat lease.

#include "store_fixture.hpp"

#include <ep/persistence/run_id.hpp>

#include <sys/wait.h>

namespace ep::persistence::test {
namespace {

using lease = store_fixture;

TEST_F(lease, free_lease_is_acquired_renewed_and_released)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto got = s->acquire_lease(run->id, "host-a:1", 30s);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->owner, "host-a:1");
    EXPECT_EQ(got->heartbeat->time_since_epoch().count(), clock_ms_.load());

    // Re-acquiring our own lease succeeds (idempotent).
    ASSERT_TRUE(s->acquire_lease(run->id, "host-a:1", 30s));

    clock_ms_ += 10'000;
    ASSERT_TRUE(s->renew_lease(run->id, "host-a:1"));
    EXPECT_EQ(s->get_run(run->id)->heartbeat->time_since_epoch().count(), clock_ms_.load());

    ASSERT_TRUE(s->release_lease(run->id, "host-a:1"));
    auto after = s->get_run(run->id);
    EXPECT_EQ(after->owner, "");
    EXPECT_FALSE(after->heartbeat);
    ASSERT_TRUE(s->release_lease(run->id, "host-a:1"));  // releasing a free lease is fine
    ASSERT_TRUE(s->acquire_lease(run->id, "host-b:2", 30s));
}

TEST_F(lease, live_owner_blocks_a_second_owner)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->acquire_lease(run->id, "host-a:1", 30s));
    clock_ms_ += 29'000;  // still within the ttl

    auto second = s->acquire_lease(run->id, "host-b:2", 30s);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, persistence_errc::lease_held);
    EXPECT_NE(second.error().message.find("host-a:1"), std::string::npos) << second.error().message;
    EXPECT_NE(second.error().message.find("29000 ms ago"), std::string::npos) << second.error().message;

    EXPECT_EQ(s->renew_lease(run->id, "host-b:2").error().code, persistence_errc::lease_held);
    EXPECT_EQ(s->release_lease(run->id, "host-b:2").error().code, persistence_errc::lease_held);
    EXPECT_EQ(s->get_run(run->id)->owner, "host-a:1");  // untouched by the failed calls
}

TEST_F(lease, stale_heartbeat_is_taken_over_and_the_old_owner_learns_it)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->acquire_lease(run->id, "host-a:1", 30s));
    clock_ms_ += 30'001;  // the holder crashed: no heartbeat for longer than the ttl

    auto taken = s->acquire_lease(run->id, "host-b:2", 30s);
    ASSERT_TRUE(taken) << taken.error().to_string();
    EXPECT_EQ(taken->owner, "host-b:2");

    auto renew = s->renew_lease(run->id, "host-a:1");
    ASSERT_FALSE(renew);
    EXPECT_EQ(renew.error().code, persistence_errc::lease_held);
    EXPECT_NE(renew.error().message.find("host-b:2"), std::string::npos);
}

TEST_F(lease, a_dead_local_owner_is_taken_over_at_once)
{
    // A child that exits at once gives us a pid that certainly no longer exists (once reaped).
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0)
        ::_exit(0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);

    const auto me = default_owner();
    const auto host = me.substr(0, me.rfind(':'));
    const auto dead = host + ":" + std::to_string(child);
    EXPECT_TRUE(owner_is_dead_local_process(dead));
    EXPECT_FALSE(owner_is_dead_local_process(me));
    EXPECT_FALSE(owner_is_dead_local_process("some-other-host:" + std::to_string(child)));
    EXPECT_FALSE(owner_is_dead_local_process("garbage"));

    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->acquire_lease(run->id, dead, 30s));
    auto taken = s->acquire_lease(run->id, me, 30s);
    ASSERT_TRUE(taken) << taken.error().to_string();
    EXPECT_EQ(taken->owner, me);

    // With the option off, the fresh heartbeat wins.
    auto o = options();
    o.take_over_dead_local_owner = false;
    auto strict = sqlite_store::open(db_path_, o);
    ASSERT_TRUE(strict);
    ASSERT_TRUE((*strict)->release_lease(run->id, me));
    ASSERT_TRUE((*strict)->acquire_lease(run->id, dead, 30s));
    EXPECT_EQ((*strict)->acquire_lease(run->id, me, 30s).error().code, persistence_errc::lease_held);
}

TEST_F(lease, owner_created_with_the_run_holds_the_lease)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto r = make_run();
    r.owner = "host-a:1";
    auto run = s->create_run(r);
    ASSERT_TRUE(run);
    EXPECT_EQ(s->acquire_lease(run->id, "host-b:2", 30s).error().code, persistence_errc::lease_held);
}

}  // namespace
}  // namespace ep::persistence::test
