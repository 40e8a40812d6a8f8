// integrity_check: ok on a sound store; a broken invariant is `corrupt`, named.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(integrity, a_sound_store_passes)
{
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->integrity_check());
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->commit_phase(make_phase(id, "design"), make_events("design", 3)));
    ASSERT_TRUE(s->set_run_status(id, run_status::completed));
    auto r = s->integrity_check();
    EXPECT_TRUE(r) << r.error().to_string();
}

TEST_P(integrity, a_gap_in_a_runs_event_log_is_reported)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->append_events(id, make_events("x", 3)));
    backend_->exec("DELETE FROM events WHERE seq = 2");
    auto r = s->integrity_check();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::corrupt);
    EXPECT_NE(r.error().message.find(id), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("event"), std::string::npos) << r.error().message;
}

TEST_P(integrity, a_completed_phase_without_a_finish_time_is_reported)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->commit_phase(make_phase(id, "design"), {}));
    backend_->exec("UPDATE phases SET finished_ms = NULL");
    auto r = s->integrity_check();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::corrupt);
    EXPECT_NE(r.error().message.find("design"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ep::persistence::conformance
