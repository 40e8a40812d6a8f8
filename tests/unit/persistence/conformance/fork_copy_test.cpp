// copy_phases: what a fork starts from — the completed instances of chosen phases, with their
// attempts, copied in one transaction.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

class fork_source
{
public:
    // A source run: design (completed, 2 attempts), build fan-out of 2 items (item 1 failed),
    // review iterations 1 and 2 (both completed), and its events.
    explicit fork_source(store& s) : id(s.create_run(make_run()).value().id)
    {
        auto design = make_phase(id, "design");
        EXPECT_TRUE(s.commit_phase(
            design, make_events("design", 2),
            {make_attempt(id, "design", 1, attempt_outcome::failed), make_attempt(id, "design", 2)}));
        for (int item = 0; item < 2; ++item)
        {
            auto b = make_phase(id, "build");
            b.item = item;
            b.status = item == 0 ? phase_status::completed : phase_status::failed;
            auto a = make_attempt(id, "build", 1, item == 0 ? attempt_outcome::ok : attempt_outcome::failed);
            a.item = item;
            EXPECT_TRUE(s.commit_phase(b, {}, {a}));
        }
        for (int iteration = 1; iteration <= 2; ++iteration)
        {
            auto r = make_phase(id, "review");
            r.iteration = iteration;
            r.output_text = "review pass " + std::to_string(iteration);
            EXPECT_TRUE(s.commit_phase(r, {}));
        }
    }
    std::string id;
};

TEST_P(fork_copy, completed_instances_of_the_named_phases_are_copied_with_their_attempts)
{
    auto s = open();
    ASSERT_TRUE(s);
    fork_source src(*s);
    auto fork = make_run();
    fork.parent_run_id = src.id;
    fork.parent_phase = "implement";
    const auto to = s->create_run(fork).value().id;

    ASSERT_TRUE(s->copy_phases(src.id, to, {"design", "build", "review"}));
    auto copied = s->get_phases(to);
    ASSERT_TRUE(copied);
    ASSERT_EQ(copied->size(), 4u);  // design, build[0], review #1 and #2; not the failed build[1]
    EXPECT_EQ(s->get_phase(to, "design")->output_text, "output of design");
    EXPECT_EQ(s->get_phase(to, "build", 1, 0)->status, phase_status::completed);
    EXPECT_EQ(s->get_phase(to, "build", 1, 1).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->get_phase(to, "review", 2)->output_text, "review pass 2");
    EXPECT_EQ(s->get_phase(to, "review", 2)->started, s->get_phase(src.id, "review", 2)->started);
    for (const auto& p : *copied)
        EXPECT_EQ(p.run_id, to);

    auto attempts = s->get_attempts(to);
    ASSERT_TRUE(attempts);
    EXPECT_EQ(attempts->size(), 3u);  // design's two and build[0]'s; none of the failed item
    for (const auto& a : *attempts)
        EXPECT_EQ(a.run_id, to);
    EXPECT_TRUE(s->get_events(to)->empty()) << "the fork's events are the caller's";
    EXPECT_EQ(s->get_run(to)->totals.phases_completed, 4);

    // Copied instances are final in the fork; the source is untouched.
    EXPECT_EQ(s->begin_phase(to, "design").error().code, persistence_errc::invalid_state);
    EXPECT_TRUE(s->begin_phase(to, "build", 1, 1));
    EXPECT_EQ(s->get_phases(src.id)->size(), 5u);
    EXPECT_EQ(s->get_events(src.id)->size(), 2u);
    EXPECT_TRUE(s->integrity_check());
}

TEST_P(fork_copy, only_the_named_phases_are_copied)
{
    auto s = open();
    ASSERT_TRUE(s);
    fork_source src(*s);
    const auto to = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->copy_phases(src.id, to, {"design", "not-a-phase"}));
    auto copied = s->get_phases(to);
    ASSERT_TRUE(copied);
    ASSERT_EQ(copied->size(), 1u);
    EXPECT_EQ(copied->front().phase_id, "design");
    ASSERT_TRUE(s->copy_phases(src.id, to, {}));
    EXPECT_EQ(s->get_phases(to)->size(), 1u);
}

TEST_P(fork_copy, a_completed_instance_in_the_target_refuses_the_whole_copy)
{
    auto s = open();
    ASSERT_TRUE(s);
    fork_source src(*s);
    const auto to = s->create_run(make_run()).value().id;
    auto mine = make_phase(to, "review");
    mine.iteration = 2;
    mine.output_text = "the fork's own";
    ASSERT_TRUE(s->commit_phase(mine, {}));

    auto r = s->copy_phases(src.id, to, {"design", "review"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::invalid_state);
    EXPECT_NE(r.error().message.find("review"), std::string::npos) << r.error().message;
    // All or nothing: design (copied before review failed) is gone too.
    EXPECT_EQ(s->get_phases(to)->size(), 1u);
    EXPECT_EQ(s->get_phase(to, "review", 2)->output_text, "the fork's own");
    EXPECT_TRUE(s->get_attempts(to)->empty());
}

TEST_P(fork_copy, unknown_runs_and_a_copy_into_itself_are_refused)
{
    auto s = open();
    ASSERT_TRUE(s);
    fork_source src(*s);
    EXPECT_EQ(s->copy_phases(src.id, "nope", {"design"}).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->copy_phases("nope", src.id, {"design"}).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->copy_phases(src.id, src.id, {"design"}).error().code, persistence_errc::invalid_argument);
}

}  // namespace
}  // namespace ep::persistence::conformance
