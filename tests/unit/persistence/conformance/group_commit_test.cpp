// Group commit: begin_batch/end_batch wrap several calls in one transaction, each call still
// atomic on its own.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(group_commit, a_batch_commits_its_calls_together_and_a_refused_call_undoes_only_itself)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "done"), {}));

    auto begun = s->begin_batch();
    ASSERT_TRUE(begun) << begun.error().to_string();
    ASSERT_TRUE(*begun) << "every backend groups commits";
    EXPECT_FALSE(s->begin_batch());  // no nesting of batches
    EXPECT_TRUE(s->commit_phase(make_phase(run->id, "a"), make_events("a", 1)));
    auto refused = s->commit_phase(make_phase(run->id, "done"), make_events("done", 1));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, persistence_errc::invalid_state);
    EXPECT_TRUE(s->begin_phase(run->id, "b"));
    EXPECT_TRUE(s->get_run(run->id));  // reads inside a batch see the batch
    EXPECT_EQ(s->get_phases(run->id)->size(), 3u);
    EXPECT_TRUE(s->commit_phase(make_phase(run->id, "b"), make_events("b", 1)));
    ASSERT_TRUE(s->end_batch());
    EXPECT_FALSE(s->end_batch());  // nothing open any more

    // A second connection sees exactly the batch's successful calls.
    auto other = open();
    ASSERT_TRUE(other);
    EXPECT_EQ(other->get_phases(run->id)->size(), 3u);
    auto got = other->get_events(run->id);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0].seq, 1);
    EXPECT_EQ((*got)[1].seq, 2);
}

TEST_P(group_commit, nothing_of_an_open_batch_is_visible_to_others_until_it_ends)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    auto reader = open_read_only();
    ASSERT_TRUE(reader);
    ASSERT_TRUE(s->begin_batch().value());
    ASSERT_TRUE(s->commit_phase(make_phase(id, "a"), make_events("a", 2)));
    EXPECT_TRUE(reader->get_phases(id)->empty());
    EXPECT_TRUE(reader->get_events(id)->empty());
    ASSERT_TRUE(s->end_batch());
    EXPECT_EQ(reader->get_phases(id)->size(), 1u);
    EXPECT_EQ(reader->get_events(id)->size(), 2u);
}

}  // namespace
}  // namespace ep::persistence::conformance
