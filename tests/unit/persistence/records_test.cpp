// Create/read/update of every record kind, list ordering and event sequence numbers.

#include "store_fixture.hpp"

#include <ep/persistence/run_id.hpp>

#include <algorithm>

namespace ep::persistence::test {
namespace {

using records = store_fixture;

TEST_F(records, create_and_get_run_round_trips_every_field)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto in = make_run("review");
    in.owner = "host-a:42";
    auto created = s->create_run(in);
    ASSERT_TRUE(created) << created.error().to_string();
    EXPECT_FALSE(created->id.empty());
    EXPECT_EQ(created->definition_hash, definition_hash(in.definition));
    EXPECT_EQ(created->definition_hash.size(), 64u);

    auto got = s->get_run(created->id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->id, created->id);
    EXPECT_EQ(got->workflow, "review");
    EXPECT_EQ(got->definition, in.definition);
    EXPECT_EQ(got->definition_hash, created->definition_hash);
    EXPECT_EQ(got->inputs, in.inputs);
    EXPECT_EQ(got->mix, "A");
    EXPECT_EQ(got->status, run_status::pending);
    EXPECT_EQ(got->owner, "host-a:42");
    ASSERT_TRUE(got->heartbeat);
    EXPECT_EQ(got->heartbeat->time_since_epoch().count(), clock_ms_.load());
    EXPECT_EQ(got->created.time_since_epoch().count(), clock_ms_.load());
    EXPECT_FALSE(got->finished);
    EXPECT_EQ(got->totals.input_tokens, 0);
}

TEST_F(records, create_run_rejects_duplicates_and_empty_workflow)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = make_run();
    run.id = "fixed-id";
    ASSERT_TRUE(s->create_run(run));
    auto dup = s->create_run(run);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, persistence_errc::invalid_argument);
    auto empty = s->create_run(make_run(""));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, persistence_errc::invalid_argument);
}

TEST_F(records, unknown_run_is_not_found_everywhere)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    const std::string id = "nope";
    EXPECT_EQ(s->get_run(id).error().code, persistence_errc::not_found);
    EXPECT_NE(s->get_run(id).error().message.find("'nope'"), std::string::npos);
    EXPECT_EQ(s->set_run_status(id, run_status::failed).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->set_run_mix(id, "B").error().code, persistence_errc::not_found);
    EXPECT_EQ(s->begin_phase(id, "x").error().code, persistence_errc::not_found);
    EXPECT_EQ(s->commit_phase(make_phase(id, "x"), {}).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->append_events(id, make_events("x", 1)).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->append_events(id, {}).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->get_phases(id).error().code, persistence_errc::not_found);
    EXPECT_EQ(s->get_phase(id, "x").error().code, persistence_errc::not_found);
    EXPECT_EQ(s->acquire_lease(id, "me:1", 1s).error().code, persistence_errc::not_found);
    attempt_record a;
    a.run_id = id;
    a.phase_id = "x";
    EXPECT_EQ(s->record_attempt(a).error().code, persistence_errc::not_found);
}

TEST_F(records, status_transitions_set_and_clear_finished)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    clock_ms_ += 5000;
    ASSERT_TRUE(s->set_run_status(run->id, run_status::failed, "phase 'review' failed"));
    auto got = s->get_run(run->id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, run_status::failed);
    EXPECT_EQ(got->error, "phase 'review' failed");
    ASSERT_TRUE(got->finished);
    EXPECT_EQ(got->totals.duration, 5000ms);

    ASSERT_TRUE(s->set_run_status(run->id, run_status::running));
    ASSERT_TRUE(s->set_run_mix(run->id, "C"));
    got = s->get_run(run->id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, run_status::running);
    EXPECT_EQ(got->error, "");
    EXPECT_FALSE(got->finished);
    EXPECT_EQ(got->mix, "C");
}

TEST_F(records, phases_round_trip_and_totals_aggregate)
{
    auto s = open_store();
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
    EXPECT_DOUBLE_EQ(got->cost_usd, 0.25);
    EXPECT_EQ(got->started, running->started);  // begin_phase's start survives a commit without one
    EXPECT_EQ(got->finished, timestamp(2000ms));

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

TEST_F(records, a_completed_phase_is_final)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "design"), {}));

    auto again = s->begin_phase(run->id, "design");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, persistence_errc::invalid_state);
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
    EXPECT_EQ(s->get_phase(run->id, "review")->status, phase_status::running);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "review"), {}));
    EXPECT_EQ(s->get_phase(run->id, "review")->status, phase_status::completed);
}

TEST_F(records, attempts_round_trip_and_filter_by_phase)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    attempt_record a;
    a.run_id = run->id;
    a.phase_id = "design";
    a.attempt = 1;
    a.provider = "anthropic";
    a.model = "claude-sonnet";
    a.outcome = attempt_outcome::failed;
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

    auto all = s->get_attempts(run->id);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].outcome, attempt_outcome::failed);
    EXPECT_EQ((*all)[0].http_status, 429);
    EXPECT_EQ((*all)[0].error, "rate limited");
    EXPECT_EQ((*all)[0].latency, 120ms);
    EXPECT_EQ((*all)[0].provider, "anthropic");
    EXPECT_EQ((*all)[1].attempt, 2);
    EXPECT_FALSE((*all)[1].http_status);
    EXPECT_EQ((*all)[2].outcome, attempt_outcome::cancelled);

    auto design = s->get_attempts(run->id, std::string("design"));
    ASSERT_TRUE(design);
    EXPECT_EQ(design->size(), 2u);
}

TEST_F(records, checkpoint_records_its_attempts_in_the_same_transaction)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    std::vector<attempt_record> attempts(2);
    for (int i = 0; i < 2; ++i)
    {
        attempts[i].run_id = run->id;
        attempts[i].phase_id = "design";
        attempts[i].attempt = i + 1;
        attempts[i].provider = "openai";
        attempts[i].model = "gpt";
        attempts[i].outcome = i == 0 ? attempt_outcome::failed : attempt_outcome::ok;
    }
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

TEST_F(records, a_batch_commits_its_calls_together_and_a_refused_call_undoes_only_itself)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(s->commit_phase(make_phase(run->id, "done"), {}));

    auto begun = s->begin_batch();
    ASSERT_TRUE(begun);
    ASSERT_TRUE(*begun);
    EXPECT_FALSE(s->begin_batch());  // no nesting of batches
    EXPECT_TRUE(s->commit_phase(make_phase(run->id, "a"), make_events("a", 1)));
    auto refused = s->commit_phase(make_phase(run->id, "done"), make_events("done", 1));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, persistence_errc::invalid_state);
    EXPECT_TRUE(s->begin_phase(run->id, "b"));
    EXPECT_TRUE(s->commit_phase(make_phase(run->id, "b"), make_events("b", 1)));
    ASSERT_TRUE(s->end_batch());
    EXPECT_FALSE(s->end_batch());  // nothing open any more

    // A second connection sees exactly the batch's successful calls.
    auto other = open_store();
    ASSERT_TRUE(other);
    EXPECT_EQ(other->get_phases(run->id)->size(), 3u);
    auto events = other->get_events(run->id);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 2u);
    EXPECT_EQ((*events)[0].seq, 1);
    EXPECT_EQ((*events)[1].seq, 2);
}

TEST_F(records, list_runs_is_newest_first_and_limited)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
    {
        auto r = s->create_run(make_run("wf" + std::to_string(i)));
        ASSERT_TRUE(r);
        ids.push_back(r->id);
        if (i != 2)  // runs 2 and 3 share a millisecond: creation order must still hold
            clock_ms_ += 1000;
    }
    ASSERT_TRUE(s->commit_phase(make_phase(ids[4], "design"), {}));

    auto all = s->list_runs(100);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 5u);
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ((*all)[i].id, ids[4 - i]) << i;
    EXPECT_EQ((*all)[0].totals.output_tokens, 50);
    EXPECT_EQ((*all)[1].totals.output_tokens, 0);

    auto two = s->list_runs(2);
    ASSERT_TRUE(two);
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[0].id, ids[4]);
    EXPECT_EQ((*two)[1].id, ids[3]);

    // Generated ids sort by time too (at second resolution).
    EXPECT_LT(ids[0], ids[1]);
    EXPECT_LT(ids[3], ids[4]);
}

TEST_F(records, event_seq_is_per_run_and_strictly_increasing)
{
    auto s = open_store();
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

    auto events = s->get_events(a->id);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 5u);
    for (std::size_t i = 0; i < events->size(); ++i)
    {
        EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ((*events)[i].run_id, a->id);
        EXPECT_EQ((*events)[i].type, "text_delta");
        EXPECT_EQ((*events)[i].ts.time_since_epoch().count(), clock_ms_.load());  // defaulted to now
    }
    EXPECT_EQ((*events)[2].payload["text"], "chunk 0");

    auto tail = s->get_events(a->id, 3, 10);
    ASSERT_TRUE(tail);
    ASSERT_EQ(tail->size(), 2u);
    EXPECT_EQ(tail->front().seq, 4);
    auto limited = s->get_events(a->id, 0, 1);
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->size(), 1u);
}

TEST_F(records, invalid_utf8_in_outputs_is_stored_without_throwing)
{
    auto s = open_store();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto p = make_phase(run->id, "design");
    p.output_json = nlohmann::json{{"text", std::string("bad \xff byte")}};
    auto events = make_events("design", 1);
    events[0].payload["text"] = std::string("\xc3");
    ASSERT_TRUE(s->commit_phase(p, events));
    auto got = s->get_phase(run->id, "design");
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->output_json);
    EXPECT_TRUE(got->output_json->is_object());
}

TEST_F(records, status_names_round_trip)
{
    for (auto st : {run_status::pending, run_status::running, run_status::completed, run_status::failed,
                    run_status::interrupted})
        EXPECT_EQ(parse_run_status(to_string(st)), st);
    for (auto st : {phase_status::running, phase_status::completed, phase_status::failed, phase_status::skipped,
                    phase_status::cancelled})
        EXPECT_EQ(parse_phase_status(to_string(st)), st);
    for (auto o : {attempt_outcome::ok, attempt_outcome::failed, attempt_outcome::cancelled})
        EXPECT_EQ(parse_attempt_outcome(to_string(o)), o);
    EXPECT_FALSE(parse_run_status("bogus"));
    EXPECT_TRUE(is_finished(run_status::interrupted));
    EXPECT_FALSE(is_finished(run_status::running));
}

}  // namespace
}  // namespace ep::persistence::test
