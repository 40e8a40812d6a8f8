// The checkpoint: a phase's record, its attempts and its events in one transaction; a
// completed phase is final; attempts are kept per phase.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

TEST_P(checkpoints, phases_round_trip_and_the_run_totals_add_them_up)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->begin_phase(run->id, "design"));
    auto running = s->get_phase(run->id, "design");
    ASSERT_TRUE(running);
    EXPECT_EQ(running->status, phase_status::running);
    ASSERT_TRUE(running->started);

    auto design = make_phase(run->id, "design");
    design.started.reset();  // keep the start time begin_phase recorded
    ASSERT_TRUE(s->commit_phase(design, {}));
    auto impl = make_phase(run->id, "implement");
    impl.status = phase_status::failed;
    impl.output_json.reset();
    impl.error = "provider overloaded";
    impl.attempts = 3;
    impl.started = *running->started + 1000ms;  // began after design
    ASSERT_TRUE(s->commit_phase(impl, {}));

    auto got = s->get_phase(run->id, "design");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->status, phase_status::completed);
    EXPECT_EQ(got->output_text, design.output_text);
    EXPECT_EQ(got->output_json, design.output_json);
    EXPECT_EQ(got->provider, "openai");
    EXPECT_EQ(got->model, "gpt-4o-mini");
    EXPECT_EQ(got->input_tokens, 100);
    EXPECT_EQ(got->output_tokens, 50);
    ASSERT_TRUE(got->cost_usd);
    EXPECT_DOUBLE_EQ(*got->cost_usd, 0.25);
    EXPECT_EQ(got->started, running->started);  // begin_phase's start survives a commit without one
    EXPECT_EQ(got->finished, timestamp(2000ms));
    EXPECT_EQ(got->attempts, 1);

    auto phases = s->get_phases(run->id);
    ASSERT_TRUE(phases);
    ASSERT_EQ(phases->size(), 2u);
    EXPECT_EQ((*phases)[0].phase_id, "design");  // the order they began
    EXPECT_EQ((*phases)[1].phase_id, "implement");
    EXPECT_EQ((*phases)[1].status, phase_status::failed);
    EXPECT_FALSE((*phases)[1].output_json);
    EXPECT_EQ((*phases)[1].error, "provider overloaded");
    EXPECT_EQ((*phases)[1].attempts, 3);

    auto totals = s->get_run(run->id);
    ASSERT_TRUE(totals);
    EXPECT_EQ(totals->totals.input_tokens, 200);
    EXPECT_EQ(totals->totals.output_tokens, 100);
    EXPECT_DOUBLE_EQ(totals->totals.cost_usd, 0.5);
    EXPECT_EQ(totals->totals.phases_completed, 1);
    EXPECT_EQ(totals->totals.phases_failed, 1);
}

// A model without a price: its phase's cost is NULL (unknown), not 0, and the run's totals
// count it as unpriced beside the sum of the known costs.
TEST_P(checkpoints, an_unknown_cost_round_trips_as_unknown_and_the_totals_count_it)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto priced = make_phase(run->id, "design");  // $0.25
    ASSERT_TRUE(s->commit_phase(priced, {}));
    auto unpriced = make_phase(run->id, "implement");
    unpriced.cost_usd = std::nullopt;
    ASSERT_TRUE(s->commit_phase(unpriced, {}));
    auto free = make_phase(run->id, "review");
    free.cost_usd = 0.0;  // a known $0 (a free local model) stays known
    ASSERT_TRUE(s->commit_phase(free, {}));

    auto got = s->get_phase(run->id, "implement");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_FALSE(got->cost_usd.has_value()) << *got->cost_usd;
    auto zero = s->get_phase(run->id, "review");
    ASSERT_TRUE(zero);
    ASSERT_TRUE(zero->cost_usd.has_value());
    EXPECT_EQ(*zero->cost_usd, 0.0);

    auto r = s->get_run(run->id);
    ASSERT_TRUE(r);
    EXPECT_DOUBLE_EQ(r->totals.cost_usd, 0.25);
    EXPECT_EQ(r->totals.unpriced_phases, 1);
    auto listed = s->list_runs(10);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().totals.unpriced_phases, 1);

    auto other = s->create_run(make_run());  // a run without phases has nothing unpriced
    ASSERT_TRUE(other);
    auto empty = s->get_run(other->id);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->totals.unpriced_phases, 0);
}

TEST_P(checkpoints, a_commit_without_finish_time_gets_now)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto p = make_phase(run->id, "design");
    p.finished.reset();
    ASSERT_TRUE(s->commit_phase(p, {}));
    EXPECT_EQ(s->get_phase(run->id, "design")->finished,
              timestamp(std::chrono::milliseconds(clock_ms_.load())));
}

TEST_P(checkpoints, a_completed_phase_is_final)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "design"), {}));

    auto again = s->begin_phase(run->id, "design");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, persistence_errc::invalid_state);
    EXPECT_NE(again.error().message.find("design"), std::string::npos) << again.error().message;
    auto overwrite = make_phase(run->id, "design");
    overwrite.output_text = "different";
    auto c = s->commit_phase(overwrite, make_events("design", 1));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, persistence_errc::invalid_state);
    EXPECT_EQ(s->get_phase(run->id, "design")->output_text, "output of design");
    EXPECT_TRUE(s->get_events(run->id)->empty());  // the refused commit's events are gone too

    // A failed phase may be begun and committed again (retry on resume).
    auto failed = make_phase(run->id, "review");
    failed.status = phase_status::failed;
    ASSERT_TRUE(s->commit_phase(failed, {}));
    ASSERT_TRUE(s->begin_phase(run->id, "review"));
    auto rebegun = s->get_phase(run->id, "review");
    EXPECT_EQ(rebegun->status, phase_status::running);
    EXPECT_EQ(rebegun->output_text, "");  // begin clears the failed attempt's output
    EXPECT_FALSE(rebegun->output_json);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "review"), {}));
    EXPECT_EQ(s->get_phase(run->id, "review")->status, phase_status::completed);
}

TEST_P(checkpoints, attempts_round_trip_and_filter_by_phase)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto a = make_attempt(run->id, "design", 1, attempt_outcome::failed);
    a.provider = "anthropic";
    a.model = "claude-sonnet";
    a.error = "rate limited";
    a.http_status = 429;
    a.latency = 120ms;
    a.started = timestamp(10ms);
    ASSERT_TRUE(s->record_attempt(a));
    a.attempt = 2;
    a.outcome = attempt_outcome::ok;
    a.error.clear();
    a.http_status.reset();
    a.started = timestamp(20ms);
    ASSERT_TRUE(s->record_attempt(a));
    a.phase_id = "review";
    a.attempt = 1;
    a.outcome = attempt_outcome::cancelled;
    a.started = timestamp(30ms);
    ASSERT_TRUE(s->record_attempt(a));
    // Recording the same number again replaces it.
    a.error = "stopped";
    ASSERT_TRUE(s->record_attempt(a));

    auto all = s->get_attempts(run->id);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].outcome, attempt_outcome::failed);
    EXPECT_EQ((*all)[0].http_status, 429);
    EXPECT_EQ((*all)[0].error, "rate limited");
    EXPECT_EQ((*all)[0].latency, 120ms);
    EXPECT_EQ((*all)[0].provider, "anthropic");
    EXPECT_EQ((*all)[0].model, "claude-sonnet");
    EXPECT_EQ((*all)[0].started, timestamp(10ms));
    EXPECT_EQ((*all)[1].attempt, 2);
    EXPECT_FALSE((*all)[1].http_status);
    EXPECT_EQ((*all)[2].outcome, attempt_outcome::cancelled);
    EXPECT_EQ((*all)[2].error, "stopped");

    auto design = s->get_attempts(run->id, std::string("design"));
    ASSERT_TRUE(design);
    EXPECT_EQ(design->size(), 2u);
}

TEST_P(checkpoints, a_checkpoint_records_its_attempts_in_the_same_transaction)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    std::vector<attempt_record> attempts{make_attempt(run->id, "design", 1, attempt_outcome::failed),
                                         make_attempt(run->id, "design", 2)};
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "design"), make_events("design", 2), attempts));
    auto stored = s->get_attempts(run->id, std::string("design"));
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored->size(), 2u);
    EXPECT_EQ((*stored)[0].outcome, attempt_outcome::failed);
    EXPECT_EQ((*stored)[1].outcome, attempt_outcome::ok);

    // A refused checkpoint (the phase is already final) leaves no attempts behind either.
    attempts[0].attempt = 3;
    attempts[1].attempt = 4;
    auto refused = s->commit_phase(make_phase(run->id, "design"), {}, attempts);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, persistence_errc::invalid_state);
    EXPECT_EQ(s->get_attempts(run->id, std::string("design"))->size(), 2u);
}

TEST_P(checkpoints, a_failure_half_way_through_leaves_nothing_of_the_checkpoint)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto earlier = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->commit_phase(make_phase(earlier, "design"), make_events("design", 2)));
    const auto id = s->create_run(make_run()).value().id;
    // The second of three events fails: the phase row and the attempts are written by then.
    backend_->fail_inserts_of_event_type("boom");

    auto events = make_events("design", 3);
    events[1].type = "boom";
    auto c = s->commit_phase(make_phase(id, "design"), events, {make_attempt(id, "design", 1)});
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("committing phase 'design'"), std::string::npos) << c.error().message;
    EXPECT_TRUE(c.error().cause) << "the backend's own error is kept as the cause";

    EXPECT_EQ(s->get_phase(id, "design").error().code, persistence_errc::not_found);
    EXPECT_TRUE(s->get_phases(id)->empty());
    EXPECT_TRUE(s->get_events(id)->empty());
    EXPECT_TRUE(s->get_attempts(id)->empty());

    // The earlier run is intact and the store keeps working after the failure.
    EXPECT_EQ(s->get_phase(earlier, "design")->output_text, "output of design");
    EXPECT_EQ(s->get_events(earlier)->size(), 2u);
    events[1].type = "text_delta";
    auto retry = s->commit_phase(make_phase(id, "design"), events);
    ASSERT_TRUE(retry) << retry.error().to_string();
    EXPECT_EQ(*retry, 3);
    EXPECT_TRUE(s->integrity_check());
}

TEST_P(checkpoints, an_empty_run_or_phase_id_is_refused)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    EXPECT_EQ(s->commit_phase(make_phase(run->id, ""), {}).error().code, persistence_errc::invalid_argument);
    EXPECT_EQ(s->commit_phase(make_phase("", "x"), {}).error().code, persistence_errc::invalid_argument);
}

}  // namespace
}  // namespace ep::persistence::conformance
