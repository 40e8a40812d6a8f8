// The event log: seq 1, 2, 3… per run, strictly increasing, whoever appends.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(events, seq_is_per_run_and_strictly_increasing)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto a = s->create_run(make_run());
    auto b = s->create_run(make_run());
    ASSERT_TRUE(a && b);
    auto last = s->append_events(a->id, make_events("x", 2));
    ASSERT_TRUE(last);
    EXPECT_EQ(*last, 2);
    EXPECT_EQ(*s->append_events(b->id, make_events("y", 1)), 1);
    EXPECT_EQ(*s->commit_phase(make_phase(a->id, "design"), make_events("design", 3)), 5);
    EXPECT_EQ(*s->append_events(a->id, {}), 0);
    EXPECT_EQ(*s->commit_phase(make_phase(a->id, "review"), {}), 0);

    auto got = s->get_events(a->id);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 5u);
    for (std::size_t i = 0; i < got->size(); ++i)
    {
        EXPECT_EQ((*got)[i].seq, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ((*got)[i].run_id, a->id);
        EXPECT_EQ((*got)[i].type, "text_delta");
        EXPECT_EQ((*got)[i].ts.time_since_epoch().count(), clock_ms_.load());  // defaulted to now
    }
    EXPECT_EQ((*got)[2].payload["text"], "chunk 0");
    EXPECT_EQ((*got)[2].payload["phase"], "design");
    EXPECT_EQ(s->get_events(b->id)->size(), 1u);
}

TEST_P(events, after_seq_and_limit_page_through_the_log)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->append_events(id, make_events("x", 5)));
    auto tail = s->get_events(id, 3, 10);
    ASSERT_TRUE(tail);
    ASSERT_EQ(tail->size(), 2u);
    EXPECT_EQ(tail->front().seq, 4);
    auto limited = s->get_events(id, 0, 1);
    ASSERT_TRUE(limited);
    ASSERT_EQ(limited->size(), 1u);
    EXPECT_EQ(limited->front().seq, 1);
    EXPECT_TRUE(s->get_events(id, 5)->empty());
    EXPECT_TRUE(s->get_events("no-such-run")->empty());
}

TEST_P(events, a_callers_timestamp_and_payload_are_kept)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    event_record e;
    e.type = "phase_completed";
    e.ts = timestamp(123456ms);
    e.payload = {{"phase", "design"}, {"usage", {{"input_tokens", 10}, {"output_tokens", 20}}},
                 {"cost_usd", 0.125}, {"text", "ünïcode ✓"},
                 {"list", {1, 2, 3}}, {"none", nullptr}};
    ASSERT_TRUE(s->append_events(id, {e}));
    auto got = s->get_events(id);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().ts, timestamp(123456ms));
    EXPECT_EQ(got->front().type, "phase_completed");
    EXPECT_EQ(got->front().payload, e.payload);
}

}  // namespace
}  // namespace ep::persistence::conformance
