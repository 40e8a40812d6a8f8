// Runs: create, read, status and mix; unknown ids; read-only stores; reopening.

#include "conformance.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::persistence::conformance {
namespace {

TEST_P(runs, create_and_get_round_trip_every_field)
{
    auto s = open();
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

TEST_P(runs, create_rejects_a_duplicate_id_and_an_empty_workflow)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = make_run();
    run.id = "fixed-id";
    ASSERT_TRUE(s->create_run(run));
    auto dup = s->create_run(run);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, persistence_errc::invalid_argument);
    EXPECT_NE(dup.error().message.find("fixed-id"), std::string::npos) << dup.error().message;
    auto empty = s->create_run(make_run(""));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, persistence_errc::invalid_argument);
}

TEST_P(runs, an_unknown_run_is_not_found_everywhere)
{
    auto s = open();
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
    EXPECT_EQ(s->renew_lease(id, "me:1").error().code, persistence_errc::not_found);
    EXPECT_EQ(s->release_lease(id, "me:1").error().code, persistence_errc::not_found);
    EXPECT_EQ(s->record_attempt(make_attempt(id, "x", 1)).error().code, persistence_errc::not_found);
}

TEST_P(runs, status_transitions_set_and_clear_finished)
{
    auto s = open();
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

TEST_P(runs, text_that_is_not_clean_utf8_is_stored_without_failing_the_checkpoint)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto run = s->create_run(make_run());
    ASSERT_TRUE(run);
    auto p = make_phase(run->id, "design");
    p.output_json = nlohmann::json{{"text", std::string("bad \xff byte")}, {"nul", std::string("a\0b", 3)}};
    p.output_text = std::string("valid é text, then a NUL ") + '\0' + " and a stray \xc3 byte";
    auto events = make_events("design", 1);
    events[0].payload["text"] = std::string("\xc3");
    ASSERT_TRUE(s->commit_phase(p, events));
    auto got = s->get_phase(run->id, "design");
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->output_json);
    EXPECT_TRUE(got->output_json->is_object());
    EXPECT_EQ(got->output_json->at("nul"), std::string("a\0b", 3));  // JSON escapes keep it exactly
    // Valid text is kept; a backend whose text type refuses NUL or bad bytes may replace them.
    EXPECT_EQ(got->output_text.rfind("valid é text, then a NUL ", 0), 0u) << got->output_text;
    EXPECT_EQ(s->get_events(run->id)->size(), 1u);
}

TEST_P(runs, a_read_only_store_reads_and_refuses_every_write)
{
    std::string id;
    {
        auto s = open();
        ASSERT_TRUE(s);
        id = s->create_run(make_run()).value().id;
        ASSERT_TRUE(s->commit_phase(make_phase(id, "design"), {}));
    }
    auto s = open_read_only();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->list_runs(10)->size(), 1u);
    EXPECT_EQ(s->get_phase(id, "design")->output_text, "output of design");
    EXPECT_TRUE(s->integrity_check());

    auto w = s->create_run(make_run());
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, persistence_errc::read_only) << w.error().to_string();
    auto c = s->commit_phase(make_phase(id, "review"), make_events("review", 1));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, persistence_errc::read_only) << c.error().to_string();
    EXPECT_EQ(s->set_run_status(id, run_status::failed).error().code, persistence_errc::read_only);
    EXPECT_EQ(s->acquire_lease(id, "me:1", 1s).error().code, persistence_errc::read_only);
}

TEST_P(runs, a_read_only_open_of_a_store_that_does_not_exist_is_not_found_and_creates_nothing)
{
    auto o = options();
    o.read_only = true;
    auto r = open_store(backend_->uri(), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, persistence_errc::not_found) << r.error().to_string();
    // Still nothing there: a writable open now creates the store from scratch.
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->list_runs(10)->empty());
}

TEST_P(runs, what_was_committed_survives_reopening)
{
    std::string id;
    {
        auto s = open();
        ASSERT_TRUE(s);
        id = s->create_run(make_run()).value().id;
        ASSERT_TRUE(s->commit_phase(make_phase(id, "design"), make_events("design", 3)));
    }
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->get_phase(id, "design")->status, phase_status::completed);
    EXPECT_EQ(s->get_events(id)->size(), 3u);
}

}  // namespace
}  // namespace ep::persistence::conformance
