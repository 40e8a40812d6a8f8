// One live owner per run: the heartbeat lease, judged by heartbeat age alone (no pid checks:
// owners on other machines look the same as local ones here).

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(leases, a_free_lease_is_acquired_renewed_and_released)
{
    auto s = open();
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

TEST_P(leases, a_live_owner_blocks_a_second_owner)
{
    auto s = open();
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

TEST_P(leases, a_stale_heartbeat_is_taken_over_and_the_old_owner_cannot_renew)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->acquire_lease(run->id, "host-a:1", 30s));
    clock_ms_ += 30'001;  // the holder crashed: no heartbeat for longer than the ttl

    // Another store object (another machine, as far as the store can tell) takes over.
    auto other = open();
    ASSERT_TRUE(other);
    auto taken = other->acquire_lease(run->id, "host-b:2", 30s);
    ASSERT_TRUE(taken) << taken.error().to_string();
    EXPECT_EQ(taken->owner, "host-b:2");

    auto renew = s->renew_lease(run->id, "host-a:1");
    ASSERT_FALSE(renew);
    EXPECT_EQ(renew.error().code, persistence_errc::lease_held);
    EXPECT_NE(renew.error().message.find("host-b:2"), std::string::npos) << renew.error().message;
    // Nor can it release (or re-take) what is now someone else's live lease.
    EXPECT_EQ(s->release_lease(run->id, "host-a:1").error().code, persistence_errc::lease_held);
    EXPECT_EQ(s->acquire_lease(run->id, "host-a:1", 30s).error().code, persistence_errc::lease_held);
    EXPECT_EQ(s->get_run(run->id)->owner, "host-b:2");
}

TEST_P(leases, a_lease_never_renewed_goes_stale_at_exactly_its_ttl)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->acquire_lease(run->id, "host-a:1", 30s));
    clock_ms_ += 30'000;  // exactly the ttl: still live
    EXPECT_EQ(s->acquire_lease(run->id, "host-b:2", 30s).error().code, persistence_errc::lease_held);
    clock_ms_ += 1;
    EXPECT_TRUE(s->acquire_lease(run->id, "host-b:2", 30s));
}

TEST_P(leases, an_owner_created_with_the_run_holds_the_lease)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto r = make_run();
    r.owner = "host-a:1";
    auto run = s->create_run(r);
    ASSERT_TRUE(run);
    EXPECT_EQ(s->acquire_lease(run->id, "host-b:2", 30s).error().code, persistence_errc::lease_held);
    EXPECT_TRUE(s->renew_lease(run->id, "host-a:1"));
}

TEST_P(leases, an_empty_owner_is_refused)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    EXPECT_EQ(s->acquire_lease(run->id, "", 30s).error().code, persistence_errc::invalid_argument);
}

}  // namespace
}  // namespace ep::persistence::conformance
