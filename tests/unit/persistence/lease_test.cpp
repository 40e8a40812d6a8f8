// SQLite only: a lease held by a dead process on this host is taken over at once (the
// heartbeat lease itself is in the conformance suite).

#include "dead_owner.hpp"
#include "store_fixture.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::persistence::test {
namespace {

using lease = store_fixture;

TEST_F(lease, a_dead_local_owner_is_taken_over_at_once)
{
    const auto dead = dead_local_owner();
    ASSERT_FALSE(dead.empty());
    const auto me = default_owner();
    EXPECT_TRUE(owner_is_dead_local_process(dead));
    EXPECT_FALSE(owner_is_dead_local_process(me));
    EXPECT_FALSE(owner_is_dead_local_process("some-other-host:" + dead.substr(dead.rfind(':') + 1)));
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

}  // namespace
}  // namespace ep::persistence::test
