// workflow_executor with fake providers: ordering, overlap, failure propagation, fail-fast,
// cancellation, timeouts, JSON outputs, conversation carry-over, resume and leases.
#include "executor_test_util.hpp"
#include "../routing/routing_test_util.hpp"

#include <ep/engine/run/json_output.hpp>
#include <ep/persistence/run_id.hpp>
#include <ep/providers/error.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>

namespace ep::engine::exec_test {
namespace {

std::size_t index_in(const std::vector<std::string>& v, const std::string& s)
{
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}

const char* chain_yaml = R"(
name: chain
inputs:
  topic: {type: string, default: cats}
phases:
  a:
    persona: writer
    prompt: "write about {{ inputs.topic }}"
  b:
    persona: writer
    needs: [a]
    prompt: "improve: {{ phases.a.output }}"
  c:
    persona: writer
    needs: [b]
    prompt: "summarise: {{ phases.b.output }}"
)";

TEST_F(executor_fixture, runs_a_chain_in_order_and_passes_outputs)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request& r) {
        return fake_reply{"answer(" + last_user_text(r) + ")"};
    });
    load(chain_yaml);
    auto out = run_workflow({}, {}, nullptr, {{"topic", "owls"}});
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.log, (std::vector<std::string>{"start:a", "end:a", "start:b", "end:b", "start:c", "end:c"}));
    EXPECT_EQ(last_user_text(p1.requests[0]), "write about owls");
    EXPECT_EQ(last_user_text(p1.requests[1]), "improve: answer(write about owls)");
    EXPECT_EQ(p1.requests[0].system, "You are writer.");

    auto phases = db().get_phases(out->run_id);
    ASSERT_TRUE(phases);
    ASSERT_EQ(phases->size(), 3u);
    for (const auto& p : *phases)
    {
        EXPECT_EQ(p.status, phase_status::completed) << p.phase_id;
        EXPECT_EQ(p.provider, "p1");
        EXPECT_EQ(p.model, "m1");
        EXPECT_EQ(p.input_tokens, 10);
        EXPECT_EQ(p.output_tokens, 20);
        ASSERT_TRUE(p.cost_usd);
        EXPECT_NEAR(*p.cost_usd, (10 * 1.0 + 20 * 2.0) / 1e6, 1e-12);
        EXPECT_EQ(p.attempts, 1);
    }
    auto run = db().get_run(out->run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, run_status::completed);
    EXPECT_EQ(run->definition, chain_yaml);
    EXPECT_EQ(run->inputs["topic"], "owls");
    EXPECT_TRUE(run->owner.empty()) << "the lease is released at the end";

    // The event stream: run_started first, run_completed last, phase events in order.
    ASSERT_FALSE(sink.events.empty());
    EXPECT_EQ(sink.events.front().type, "run_started");
    EXPECT_EQ(sink.events.back().type, "run_completed");
    EXPECT_EQ(sink.events.back().field("status"), "succeeded");
    EXPECT_EQ(sink.of_type("phase_completed").size(), 3u);
    EXPECT_EQ(sink.of_type("phase_started").size(), 3u);
    for (const auto& e : sink.events)
        EXPECT_EQ(e.run_id, out->run_id);

    // The store's event log holds the same contract events (plus conversations).
    auto stored = db().get_events(out->run_id);
    ASSERT_TRUE(stored);
    std::vector<std::string> types;
    for (const auto& e : *stored)
        if (e.type != "phase_conversation")
            types.push_back(e.type);
    EXPECT_EQ(types.front(), "run_started");
    EXPECT_EQ(types.back(), "run_completed");
    EXPECT_EQ(std::count(types.begin(), types.end(), "phase_completed"), 3);
    EXPECT_EQ(std::count(types.begin(), types.end(), "text_delta"), 3);
}

const char* diamond_yaml = R"(
name: diamond
phases:
  a:
    persona: writer
    prompt: "a"
  fast:
    persona: writer
    needs: [a]
    prompt: "fast"
  slow:
    persona: writer
    needs: [a]
    prompt: "slow"
  after_fast:
    persona: writer
    needs: [fast]
    prompt: "after fast"
  end:
    persona: writer
    needs: [slow, after_fast]
    prompt: "end"
)";

TEST_F(executor_fixture, independent_phases_overlap_and_start_as_soon_as_their_needs_are_done)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        return fake_reply{phase, phase == "slow" ? 300ms : 20ms};
    });
    load(diamond_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.max_in_flight, 2) << "fast and slow must run at the same time";
    // Not lockstep: after_fast (level 2) starts while slow (level 1) is still running.
    EXPECT_LT(index_in(p1.log, "start:after_fast"), index_in(p1.log, "end:slow"));
    EXPECT_GT(index_in(p1.log, "start:end"), index_in(p1.log, "end:slow"));
    EXPECT_GT(index_in(p1.log, "start:end"), index_in(p1.log, "end:after_fast"));
}

TEST_F(executor_fixture, global_concurrency_limit_is_respected)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{"x", 30ms}; });
    load(diamond_yaml);
    executor_options o;
    o.max_concurrency = 1;
    auto out = run_workflow(o);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.max_in_flight, 1);
}

TEST_F(executor_fixture, a_failed_phase_skips_its_dependents_and_independent_branches_finish)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        fake_reply rep{phase, phase == "slow" ? 100ms : 0ms};
        if (phase == "fast")
            rep.fail = pv::provider_errc::invalid_request;
        return rep;
    });
    load(diamond_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_NE(out->error.find("fast"), std::string::npos);
    EXPECT_EQ(p1.calls_for("slow"), 1) << "the independent branch still runs";
    EXPECT_EQ(p1.calls_for("after_fast"), 0);
    EXPECT_EQ(p1.calls_for("end"), 0);

    auto status_of = [&](const std::string& id) { return db().get_phase(out->run_id, id).value().status; };
    EXPECT_EQ(status_of("a"), phase_status::completed);
    EXPECT_EQ(status_of("fast"), phase_status::failed);
    EXPECT_EQ(status_of("slow"), phase_status::completed);
    EXPECT_EQ(status_of("after_fast"), phase_status::skipped);
    EXPECT_EQ(status_of("end"), phase_status::skipped);

    auto skipped = sink.of_type("phase_skipped");
    ASSERT_EQ(skipped.size(), 2u);
    EXPECT_EQ(skipped[0]->field("phase"), "after_fast");
    EXPECT_EQ(skipped[0]->field("reason"), "needs 'fast', which failed");
    EXPECT_EQ(sink.of_type("phase_failed").size(), 1u);
    EXPECT_EQ(sink.of_type("attempt_failed").size(), 1u);
    EXPECT_EQ(sink.events.back().field("status"), "failed");
    EXPECT_EQ(db().get_run(out->run_id).value().status, run_status::failed);
    auto attempts = db().get_attempts(out->run_id, std::string("fast"));
    ASSERT_TRUE(attempts);
    ASSERT_EQ(attempts->size(), 1u);
    EXPECT_EQ(attempts->front().outcome, ps::attempt_outcome::failed);
}

TEST_F(executor_fixture, fail_fast_cancels_in_flight_phases_and_skips_the_rest)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        fake_reply rep{phase};
        if (phase == "fast")
        {
            rep.delay = 20ms;
            rep.fail = pv::provider_errc::invalid_request;
        }
        if (phase == "slow")
            rep.hang = true;
        return rep;
    });
    load(diamond_yaml);
    executor_options o;
    o.fail_fast = true;
    auto out = run_workflow(o);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    auto status_of = [&](const std::string& id) { return db().get_phase(out->run_id, id).value().status; };
    EXPECT_EQ(status_of("fast"), phase_status::failed);
    EXPECT_EQ(status_of("slow"), phase_status::cancelled);
    EXPECT_EQ(status_of("end"), phase_status::skipped);
    EXPECT_EQ(status_of("after_fast"), phase_status::skipped);
    EXPECT_EQ(p1.in_flight, 0);
}

TEST_F(executor_fixture, stop_request_cancels_in_flight_phases_and_marks_the_run_interrupted)
{
    run_control control;
    auto& p1 = add_provider("p1", [&](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        fake_reply rep{phase};
        if (phase == "b")
            rep.hang = true;
        return rep;
    });
    load(chain_yaml);
    // Stop once b is in flight (polling on the same thread: strand-confined).
    asio::steady_timer poll(ctx);
    std::function<void()> check = [&] {
        if (p1.in_flight > 0 && p1.calls_for("b") == 1)
        {
            control.request_stop();
            return;
        }
        poll.expires_after(5ms);
        poll.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                check();
        });
    };
    check();
    auto out = run_workflow({}, {}, &control);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::interrupted);
    EXPECT_EQ(db().get_run(out->run_id).value().status, run_status::interrupted);
    EXPECT_EQ(db().get_phase(out->run_id, "a").value().status, phase_status::completed);
    EXPECT_EQ(db().get_phase(out->run_id, "b").value().status, phase_status::cancelled);
    EXPECT_FALSE(db().get_phase(out->run_id, "c")) << "c never started: nothing recorded, it runs on resume";
    EXPECT_EQ(p1.calls_for("c"), 0);
    EXPECT_EQ(sink.events.back().field("status"), "cancelled");
    EXPECT_EQ(p1.in_flight, 0);
}

// Polls the store every few milliseconds (on the run's thread) and collects the statuses of
// `phase` seen while the run is in flight.
struct status_watch
{
    status_watch(asio::io_context& ctx, ps::store& db, std::string phase) : timer(ctx), db_(db), phase_(std::move(phase)) {}

    void start()
    {
        timer.expires_after(3ms);
        timer.async_wait([this](boost::system::error_code ec) {
            if (ec || stop)
                return;
            sample();
            start();
        });
    }

    // Records the phase's status if it changed. Called once more after the run: the run may end
    // within one polling interval of the phase's last change.
    void sample()
    {
        auto runs = db_.list_runs(1);
        if (runs && !runs->empty())
            if (auto p = db_.get_phase(runs->front().id, phase_); p && (seen.empty() || seen.back() != p->status))
                seen.push_back(p->status);
    }

    asio::steady_timer timer;
    std::vector<phase_status> seen;
    bool stop = false;

private:
    ps::store& db_;
    std::string phase_;
};

TEST_F(executor_fixture, a_long_phase_is_marked_running_in_the_store_and_its_result_replaces_the_mark)
{
    // b takes 300 ms; its "running" mark is due 30 ms after it starts, for observers such as
    // `ep-run --show` in another terminal. A quicker phase goes straight to its checkpoint.
    add_provider("p1", [](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        return fake_reply{phase, phase == "b" ? 300ms : 0ms};
    });
    load(chain_yaml);
    status_watch watch(ctx, db(), "b");
    watch.start();
    executor_options opts;
    opts.running_mark_delay = 30ms;
    auto out = run_workflow(opts);
    watch.stop = true;
    watch.timer.cancel();
    watch.sample();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(watch.seen, (std::vector<phase_status>{phase_status::running, phase_status::completed}));
    EXPECT_EQ(db().get_phase(out->run_id, "b").value().status, phase_status::completed);
}

TEST_F(executor_fixture, a_marked_phase_that_fails_or_is_cancelled_never_stays_running)
{
    // b fails after its mark; c is stopped after its mark. Neither may be left "running".
    run_control control;
    auto& p1 = add_provider("p1", [](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        fake_reply rep{phase, 100ms};
        if (phase == "b")
            rep.fail = pv::provider_errc::invalid_request;
        if (phase == "c")
            rep.hang = true;
        return rep;
    });
    load(R"(
name: two
phases:
  b: {persona: writer, prompt: b}
  c: {persona: writer, prompt: c}
)");
    asio::steady_timer stop_later(ctx);
    stop_later.expires_after(250ms);  // b has failed by then; c is marked and still hanging
    stop_later.async_wait([&](boost::system::error_code ec) {
        if (!ec)
            control.request_stop();
    });
    executor_options opts;
    opts.running_mark_delay = 20ms;
    auto out = run_workflow(opts, {}, &control);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::interrupted);
    EXPECT_EQ(p1.calls_for("b"), 1);
    auto b = db().get_phase(out->run_id, "b");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, phase_status::failed);
    EXPECT_FALSE(b->error.empty());
    auto c = db().get_phase(out->run_id, "c");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, phase_status::cancelled);
}

TEST_F(executor_fixture, a_phase_that_exceeds_its_timeout_fails)
{
    add_provider("p1", [](const pv::chat_request& r) {
        fake_reply rep{"x"};
        rep.hang = r.metadata.at("phase") == "a";
        return rep;
    });
    load(R"(
name: slow
phases:
  a:
    persona: writer
    prompt: "a"
    timeout: 100ms
  b:
    persona: writer
    needs: [a]
    prompt: "b"
)");
    const auto t0 = std::chrono::steady_clock::now();
    auto out = run_workflow();
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    auto a = db().get_phase(out->run_id, "a").value();
    EXPECT_EQ(a.status, phase_status::failed);
    EXPECT_NE(a.error.find("timed out after 100ms"), std::string::npos) << a.error;
    EXPECT_EQ(db().get_phase(out->run_id, "b").value().status, phase_status::skipped);
    EXPECT_LT(took, 5s);
}

TEST_F(executor_fixture, default_timeout_applies_when_the_phase_has_none)
{
    add_provider("p1", [](const pv::chat_request&) {
        fake_reply rep;
        rep.hang = true;
        return rep;
    });
    load(R"(
name: slow
phases:
  a:
    persona: writer
    prompt: "a"
)");
    executor_options o;
    o.default_phase_timeout = 80ms;
    auto out = run_workflow(o);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_NE(db().get_phase(out->run_id, "a").value().error.find("timed out"), std::string::npos);
}

const char* json_yaml = R"(
name: js
phases:
  req:
    persona: writer
    prompt: "list"
    output:
      format: json
      schema:
        type: object
        required: [items]
        properties:
          items: {type: array, items: {type: string}}
  use:
    persona: writer
    needs: [req]
    prompt: "first: {{ phases.req.json.items.0 }}"
)";

TEST_F(executor_fixture, json_output_is_repaired_once_with_the_validation_error)
{
    int n = 0;
    auto& p1 = add_provider("p1", [&](const pv::chat_request& r) {
        if (r.metadata.at("phase") == "req")
            return fake_reply{++n == 1 ? R"({"items": 3})" : "```json\n{\"items\": [\"x\", \"y\"]}\n```"};
        return fake_reply{"done"};
    });
    load(json_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    ASSERT_EQ(p1.calls_for("req"), 2);
    const auto repair = last_user_text(p1.requests[1]);
    EXPECT_NE(repair.find("does not match the schema"), std::string::npos) << repair;
    EXPECT_NE(repair.find("items"), std::string::npos);
    ASSERT_TRUE(p1.requests[1].json_mode);
    auto rec = db().get_phase(out->run_id, "req").value();
    ASSERT_TRUE(rec.output_json);
    EXPECT_EQ((*rec.output_json)["items"][1], "y");
    EXPECT_EQ(rec.attempts, 2);
    EXPECT_EQ(rec.input_tokens, 20) << "usage of both calls";
    EXPECT_EQ(last_user_text(p1.requests[2]), "first: x");
}

TEST_F(executor_fixture, json_output_still_invalid_after_the_repair_fails_the_phase)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{"not json at all"}; });
    load(json_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("req"), 2) << "exactly one repair attempt";
    auto rec = db().get_phase(out->run_id, "req").value();
    EXPECT_EQ(rec.status, phase_status::failed);
    EXPECT_NE(rec.error.find("invalid JSON output after one repair attempt"), std::string::npos) << rec.error;
}

TEST(json_output, tolerates_a_fence_and_reports_schema_errors)
{
    nlohmann::json schema = {{"type", "object"}, {"required", {"a"}}};
    EXPECT_TRUE(check_json_output("```json\n{\"a\": 1}\n```", schema).value);
    EXPECT_TRUE(check_json_output("  {\"a\": 1}  ", schema).value);
    auto bad = check_json_output("{\"b\": 1}", schema);
    EXPECT_FALSE(bad.value);
    EXPECT_NE(bad.error.find("schema"), std::string::npos);
    EXPECT_FALSE(check_json_output("{oops", std::nullopt).value);
    EXPECT_TRUE(check_json_output("[1,2]", std::nullopt).value);
}

const char* continue_yaml = R"(
name: conv
phases:
  design:
    persona: writer
    prompt: "design it"
  build:
    persona: other
    needs: [design]
    context:
      continue: design
    prompt: "now build it"
  docs:
    persona: other
    needs: [build]
    context:
      phases: [design]
    prompt: "document it"
)";

TEST_F(executor_fixture, a_phase_continues_another_phases_conversation_on_a_different_provider)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{"the design"}; });
    auto& p2 = add_provider("p2", [](const pv::chat_request&) { return fake_reply{"the code"}; });
    load(continue_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    ASSERT_EQ(p1.requests.size(), 1u);
    ASSERT_EQ(p2.requests.size(), 2u);
    const auto& build = p2.requests[0];
    ASSERT_EQ(build.messages.size(), 3u);
    EXPECT_EQ(build.messages[0].who, pv::role::user);
    EXPECT_EQ(build.messages[0].text(), "design it");
    EXPECT_EQ(build.messages[1].who, pv::role::assistant);
    EXPECT_EQ(build.messages[1].text(), "the design");
    EXPECT_EQ(build.messages[2].text(), "now build it");
    EXPECT_EQ(build.system, "You are other.");
    EXPECT_EQ(db().get_phase(out->run_id, "build").value().provider, "p2");
    // context.phases: the design's output precedes the prompt.
    const auto docs = last_user_text(p2.requests[1]);
    EXPECT_NE(docs.find("the design"), std::string::npos);
    EXPECT_NE(docs.find("document it"), std::string::npos);
}

TEST_F(executor_fixture, resume_runs_only_what_did_not_complete_and_restores_conversations)
{
    bool broken = true;
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{"the design"}; });
    auto& p2 = add_provider("p2", [&](const pv::chat_request& r) {
        fake_reply rep{"the code"};
        if (broken && r.metadata.at("phase") == "build")
            rep.fail = pv::provider_errc::invalid_request;
        return rep;
    });
    load(continue_yaml);
    auto first = run_workflow();
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, run_status::failed);
    EXPECT_EQ(db().get_phase(first->run_id, "docs").value().status, phase_status::skipped);

    broken = false;
    sink.events.clear();
    open_store();  // as a new process would
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->run_id, first->run_id);
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    EXPECT_EQ(p1.requests.size(), 1u) << "the completed design phase is never sent again";
    ASSERT_EQ(p2.calls_for("build"), 2);
    const auto& build = p2.requests.back().metadata.at("phase") == "build" ? p2.requests.back() : p2.requests[1];
    ASSERT_EQ(build.messages.size(), 3u) << "the design conversation was restored from the store";
    EXPECT_EQ(build.messages[1].text(), "the design");
    ASSERT_NE(second->find("design"), nullptr);
    EXPECT_TRUE(second->find("design")->from_checkpoint);
    EXPECT_EQ(db().get_run(first->run_id).value().status, run_status::completed);
    EXPECT_EQ(db().get_phase(first->run_id, "docs").value().status, phase_status::completed);
}

TEST_F(executor_fixture, resume_of_a_run_leased_by_a_live_owner_is_refused)
{
    add_provider("p1", [](const pv::chat_request&) { return fake_reply{}; });
    load(chain_yaml);
    ps::run_record rec;
    rec.workflow = "chain";
    rec.definition = chain_yaml;
    rec.mix = "A";
    rec.status = run_status::running;
    rec.owner = "some-other-host:4242";  // fresh heartbeat, another host: alive as far as we know
    auto created = db().create_run(rec);
    ASSERT_TRUE(created);
    auto out = run_workflow({}, created->id);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, ps::persistence_errc::lease_held);
    EXPECT_NE(out.error().to_string().find("some-other-host:4242"), std::string::npos) << out.error().to_string();
    EXPECT_TRUE(sink.events.empty());
}

TEST_F(executor_fixture, resume_takes_over_a_run_whose_owner_died)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{}; });
    load(chain_yaml);
    ps::run_record rec;
    rec.workflow = "chain";
    rec.definition = chain_yaml;
    rec.mix = "A";
    rec.status = run_status::running;
    rec.owner = ps::default_owner();
    // A pid on this host that cannot exist.
    rec.owner = rec.owner.substr(0, rec.owner.rfind(':')) + ":999999999";
    auto created = db().create_run(rec);
    ASSERT_TRUE(created);
    auto out = run_workflow({}, created->id);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.requests.size(), 3u);
}

TEST_F(executor_fixture, resume_of_an_unknown_run_is_not_found)
{
    add_provider("p1", [](const pv::chat_request&) { return fake_reply{}; });
    load(chain_yaml);
    auto out = run_workflow({}, "20990101T000000Z-deadbeef");
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, ps::persistence_errc::not_found);
}

TEST_F(executor_fixture, a_full_disk_fails_the_run_clearly_and_leaves_earlier_runs_intact)
{
    bool big = false;
    add_provider("p1", [&](const pv::chat_request&) { return fake_reply(big ? std::string(512 * 1024, 'x') : "ok"); });
    load(chain_yaml);
    auto first = run_workflow();
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, run_status::completed);
    const auto first_id = first->run_id;

    // A quota at the file's current size (SQLite clamps it there), then answers far larger
    // than what is left: the checkpoint cannot be written.
    ps::sqlite_options quota;
    quota.max_page_count = 1;
    open_store(quota);
    big = true;
    ep::testing::log_capture logs;
    executor_options opts;
    opts.logger = logs.logger;
    auto second = run_workflow(opts);
    if (second)
    {
        EXPECT_EQ(second->status, run_status::failed);
        EXPECT_NE(second->error.find("full"), std::string::npos) << second->error;
        // What the store could not record is said through the executor's logger, not dropped.
        EXPECT_NE(logs.text().find("cannot save the phase result"), std::string::npos) << logs.text();
    }
    else
    {
        EXPECT_EQ(second.error().code, ps::persistence_errc::disk_full) << second.error().to_string();
    }

    // Nothing of the first run was damaged, and the file is sound.
    open_store();
    auto phases = db().get_phases(first_id);
    ASSERT_TRUE(phases);
    ASSERT_EQ(phases->size(), 3u);
    for (const auto& p : *phases)
        EXPECT_EQ(p.status, phase_status::completed) << p.phase_id;
    EXPECT_TRUE(db().integrity_check());
}

TEST_F(executor_fixture, a_lease_taken_over_mid_run_is_logged_and_stops_the_run)
{
    add_provider("p1", [](const pv::chat_request&) {
        fake_reply r;
        r.hang = true;
        return r;
    });
    load(chain_yaml);
    // Another process takes the run over while its first phase is in flight.
    asio::steady_timer thief(ctx, 150ms);
    thief.async_wait([this](boost::system::error_code) {
        auto runs = db().list_runs(1);
        ASSERT_TRUE(runs && !runs->empty());
        ASSERT_TRUE(db().acquire_lease(runs->front().id, "another-host:1", 0ms));
    });
    ep::testing::log_capture logs;
    executor_options opts;
    opts.logger = logs.logger;
    auto out = run_workflow(opts);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::interrupted);
    EXPECT_NE(logs.text().find("lease lost"), std::string::npos) << logs.text();
    EXPECT_EQ(db().get_run(out->run_id)->owner, "another-host:1") << "the new owner keeps the run";
}

TEST_F(executor_fixture, no_available_provider_fails_the_phase_with_a_clear_message)
{
    load(chain_yaml);  // no providers registered
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    // The router's reason names the persona and why each candidate was dropped.
    EXPECT_NE(out->error.find("persona 'writer' cannot be routed"), std::string::npos) << out->error;
    EXPECT_NE(out->error.find("p1/m1: unknown provider"), std::string::npos) << out->error;
}

}  // namespace
}  // namespace ep::engine::exec_test
