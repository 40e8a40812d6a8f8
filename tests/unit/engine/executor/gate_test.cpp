// Approval gates on the executor (fake providers): reaching a gate records it waiting
// (phase_waiting) and the run ends `waiting` after the independent branches finished; a decision
// ({approved, comment, by, at}) completes it and the run goes on; a timeout applies the default
// on the next resume, or fails the gate when there is none.
#include "executor_test_util.hpp"

#include <thread>

namespace ep::engine::exec_test {
namespace {

std::string gate_yaml(const std::string& approval)
{
    return R"(
name: gate
phases:
  a:
    persona: writer
    prompt: "a"
  ship:
    needs: [a]
    approval: )" +
           approval + R"(
  notes:
    persona: writer
    needs: [ship]
    when: '.phases.ship.json.approved'
    prompt: "notes after {{ phases.ship.json.comment }}"
  side:
    persona: writer
    needs: [a]
    prompt: "side"
)";
}

struct gate_test : executor_fixture
{
    fake_provider& echo()
    {
        return add_provider("p1", [](const pv::chat_request& r) {
            const auto phase = r.metadata.at("phase");
            return fake_reply{phase + "!", phase == "side" ? 150ms : 0ms};
        });
    }

    ps::result<run_outcome> decide(const std::string& run_id, bool approved, std::string comment)
    {
        decision_ = approval_decision{"ship", approved, std::move(comment), "alice"};
        open_store();  // as `ep-run --approve` in a new process would
        sink.events.clear();
        return run_workflow({}, run_id);
    }
};

TEST_F(gate_test, reaching_a_gate_waits_while_independent_branches_finish)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?"})"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::waiting);
    EXPECT_EQ(out->waiting, (std::vector<std::string>{"ship"}));
    EXPECT_EQ(p1.calls_for("side"), 1) << "a branch that does not need the gate keeps running";
    EXPECT_EQ(db().get_phase(out->run_id, "side").value().status, phase_status::completed);
    EXPECT_EQ(p1.calls_for("notes"), 0);
    EXPECT_FALSE(db().get_phase(out->run_id, "notes")) << "notes is neither run nor skipped while the gate waits";
    EXPECT_EQ(db().get_phase(out->run_id, "ship").value().status, phase_status::waiting);
    auto run = db().get_run(out->run_id).value();
    EXPECT_EQ(run.status, run_status::waiting);
    EXPECT_TRUE(run.owner.empty()) << "a waiting run holds no lease";

    auto waiting = sink.of_type("phase_waiting");
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(waiting[0]->field("phase"), "ship");
    EXPECT_EQ(waiting[0]->field("prompt"), "Ship it?");
    EXPECT_EQ(sink.events.back().field("status"), "waiting");
}

TEST_F(gate_test, an_approval_completes_the_gate_with_the_decision_and_the_run_goes_on)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?"})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::waiting);
    const auto calls_before = p1.requests.size();

    auto second = decide(first->run_id, true, "lgtm");
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    EXPECT_EQ(p1.requests.size(), calls_before + 1) << "only notes is requested; a and side are not sent again";
    EXPECT_EQ(last_user_text(p1.requests.back()), "notes after lgtm");

    auto ship = db().get_phase(first->run_id, "ship").value();
    EXPECT_EQ(ship.status, phase_status::completed);
    ASSERT_TRUE(ship.output_json);
    EXPECT_EQ((*ship.output_json)["approved"], true);
    EXPECT_EQ((*ship.output_json)["comment"], "lgtm");
    EXPECT_EQ((*ship.output_json)["by"], "alice");
    EXPECT_TRUE((*ship.output_json)["at"].is_string());
    auto recorded = sink.of_type("approval_recorded");
    ASSERT_EQ(recorded.size(), 1u);
    EXPECT_EQ(recorded[0]->field("phase"), "ship");
    EXPECT_EQ(recorded[0]->field("comment"), "lgtm");
}

TEST_F(gate_test, a_rejection_completes_the_gate_and_skips_what_asks_for_approval)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?"})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = decide(first->run_id, false, "not yet");
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    EXPECT_EQ(p1.calls_for("notes"), 0);
    auto notes = db().get_phase(first->run_id, "notes").value();
    EXPECT_EQ(notes.status, phase_status::skipped);
    EXPECT_EQ(notes.error, "when '.phases.ship.json.approved' is false");
    EXPECT_EQ((*db().get_phase(first->run_id, "ship").value().output_json)["approved"], false);
}

TEST_F(gate_test, a_resume_without_a_decision_keeps_waiting)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?"})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    const auto calls_before = p1.requests.size();
    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::waiting);
    EXPECT_EQ(p1.requests.size(), calls_before);
}

TEST_F(gate_test, after_the_timeout_the_default_applies_on_the_next_resume)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?", timeout: 20ms, default: approve})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::waiting);
    std::this_thread::sleep_for(40ms);
    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    auto ship = db().get_phase(first->run_id, "ship").value();
    ASSERT_TRUE(ship.output_json);
    EXPECT_EQ((*ship.output_json)["approved"], true);
    EXPECT_EQ((*ship.output_json)["by"], "timeout");
    EXPECT_EQ(p1.calls_for("notes"), 1);
}

TEST_F(gate_test, a_timeout_without_a_default_fails_the_gate)
{
    auto& p1 = echo();
    load(gate_yaml(R"({prompt: "Ship it?", timeout: 20ms})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    std::this_thread::sleep_for(40ms);
    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::failed);
    auto ship = db().get_phase(first->run_id, "ship").value();
    EXPECT_EQ(ship.status, phase_status::failed);
    EXPECT_NE(ship.error.find("timed out"), std::string::npos) << ship.error;
    EXPECT_EQ(p1.calls_for("notes"), 0);
}

TEST_F(gate_test, a_decision_before_the_timeout_wins_over_the_default)
{
    echo();
    load(gate_yaml(R"({prompt: "Ship it?", timeout: 1h, default: approve})"));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = decide(first->run_id, false, "no");
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ((*db().get_phase(first->run_id, "ship").value().output_json)["approved"], false);
}

}  // namespace
}  // namespace ep::engine::exec_test
