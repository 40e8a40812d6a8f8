// `repeat:` loops on the executor (fake providers): the body runs again until `until` holds or
// max_iterations is reached (on_exhausted fail|continue), previous./loop.iteration read the
// right pass, loops nest, phases outside the body read the last pass, and a resume continues
// mid-loop without sending a completed instance again.
#include "executor_test_util.hpp"

#include <algorithm>

namespace ep::engine::exec_test {
namespace {

// review approves on pass `approve_on` (0: never).
std::string review_loop_yaml(int max_iterations, const std::string& on_exhausted = "fail")
{
    return R"(
name: loop
phases:
  plan:
    persona: writer
    prompt: "plan"
  implement:
    persona: writer
    needs: [plan]
    prompt: "implement #{{ loop.iteration }} review=[{{ previous.review.output }}] before=[{{ previous.implement.output }}]"
  review:
    persona: writer
    needs: [implement]
    prompt: "review {{ phases.implement.output }}"
    repeat:
      from: implement
      until: '.phases.review.output == "approve"'
      max_iterations: )" +
           std::to_string(max_iterations) + R"(
      on_exhausted: )" + on_exhausted + R"(
  ship:
    persona: writer
    needs: [review]
    prompt: "ship {{ phases.implement.output }} after {{ phases.review.output }}"
)";
}

struct loop_test : executor_fixture
{
    // implement answers impl1, impl2, ...; review answers "changes" until its pass `approve_on`.
    fake_provider& reviewer(int approve_on)
    {
        return add_provider("p1", [this, approve_on](const pv::chat_request& r) {
            const auto phase = r.metadata.at("phase");
            const int n = ++calls_[phase];
            if (phase == "implement")
                return fake_reply{"impl" + std::to_string(n)};
            if (phase == "review")
                return fake_reply{approve_on != 0 && n >= approve_on ? "approve" : "changes"};
            return fake_reply{phase};
        });
    }

    std::vector<std::string> prompts_of(const fake_provider& p, const std::string& phase) const
    {
        std::vector<std::string> out;
        for (const auto& r : p.requests)
            if (r.metadata.at("phase") == phase)
                out.push_back(last_user_text(r));
        return out;
    }

    std::map<std::string, int> calls_;
};

TEST_F(loop_test, the_body_runs_again_until_the_condition_holds_and_previous_values_reach_the_next_pass)
{
    auto& p1 = reviewer(2);
    load(review_loop_yaml(3));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("plan"), 1) << "plan is outside the body";
    EXPECT_EQ(p1.calls_for("implement"), 2);
    EXPECT_EQ(p1.calls_for("review"), 2);
    EXPECT_EQ(prompts_of(p1, "implement"),
              (std::vector<std::string>{"implement #1 review=[] before=[]", "implement #2 review=[changes] before=[impl1]"}));
    EXPECT_EQ(prompts_of(p1, "review"), (std::vector<std::string>{"review impl1", "review impl2"}));
    EXPECT_EQ(prompts_of(p1, "ship"), (std::vector<std::string>{"ship impl2 after approve"}))
        << "a phase outside the body reads the last pass";

    // Every pass is its own checkpoint.
    EXPECT_EQ(db().get_phase(out->run_id, "implement", 1).value().output_text, "impl1");
    EXPECT_EQ(db().get_phase(out->run_id, "implement", 2).value().output_text, "impl2");
    EXPECT_EQ(db().get_phase(out->run_id, "review", 1).value().output_text, "changes");
    EXPECT_EQ(db().get_phase(out->run_id, "review", 2).value().output_text, "approve");
    EXPECT_FALSE(db().get_phase(out->run_id, "review", 3));
    EXPECT_EQ(db().get_phase(out->run_id, "plan", 1).value().status, phase_status::completed);

    // Events of the body carry their iteration; phases outside loops carry none.
    std::vector<int> review_iterations;
    for (const auto* e : sink.of_type("phase_completed"))
    {
        if (e->field("phase") == "review")
            review_iterations.push_back(e->fields.at("iteration").get<int>());
        if (e->field("phase") == "plan" || e->field("phase") == "ship")
        {
            EXPECT_FALSE(e->fields.contains("iteration")) << e->field("phase");
        }
    }
    EXPECT_EQ(review_iterations, (std::vector<int>{1, 2}));
}

TEST_F(loop_test, a_condition_true_on_the_first_pass_runs_the_body_once)
{
    auto& p1 = reviewer(1);
    load(review_loop_yaml(3));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed);
    EXPECT_EQ(p1.calls_for("implement"), 1);
    EXPECT_EQ(p1.calls_for("review"), 1);
    EXPECT_EQ(p1.calls_for("ship"), 1);
}

TEST_F(loop_test, an_exhausted_loop_fails_the_run_and_skips_what_follows)
{
    auto& p1 = reviewer(0);
    load(review_loop_yaml(3));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("implement"), 3) << "max_iterations bounds the passes";
    EXPECT_EQ(p1.calls_for("review"), 3);
    EXPECT_EQ(p1.calls_for("ship"), 0);
    EXPECT_NE(out->error.find("max_iterations (3)"), std::string::npos) << out->error;
    EXPECT_NE(out->error.find("is still false"), std::string::npos) << "says what `until` gave: " << out->error;
    auto ship = db().get_phase(out->run_id, "ship");
    ASSERT_TRUE(ship);
    EXPECT_EQ(ship->status, phase_status::skipped);
    EXPECT_EQ(ship->error, "needs 'review', whose loop ended without its `until` holding");
}

TEST_F(loop_test, on_exhausted_continue_goes_on_with_the_last_pass)
{
    auto& p1 = reviewer(0);
    load(review_loop_yaml(2, "continue"));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("implement"), 2);
    EXPECT_EQ(prompts_of(p1, "ship"), (std::vector<std::string>{"ship impl2 after changes"}));
}

TEST_F(loop_test, nested_loops_restart_the_inner_loop_on_every_outer_pass)
{
    // inner: b repeats itself until it says done (every 2nd call); outer: a..c until c says done.
    auto& p1 = add_provider("p1", [this](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        const int n = ++calls_[phase];
        if (phase == "b")
            return fake_reply{n % 2 == 0 ? "b-done" : "b-more"};
        if (phase == "c")
            return fake_reply{n >= 2 ? "c-done" : "c-more"};
        return fake_reply{phase + std::to_string(n)};
    });
    load(R"(
name: nested
phases:
  a:
    persona: writer
    prompt: "a #{{ loop.iteration }}"
  b:
    persona: writer
    needs: [a]
    prompt: "b #{{ loop.iteration }} after {{ phases.a.output }}"
    repeat: {from: b, until: '.phases.b.output == "b-done"', max_iterations: 3}
  c:
    persona: writer
    needs: [b]
    prompt: "c #{{ loop.iteration }}"
    repeat: {from: a, until: '.phases.c.output == "c-done"', max_iterations: 2}
  d:
    persona: writer
    needs: [c]
    prompt: "d {{ phases.a.output }} {{ phases.b.output }} {{ phases.c.output }}"
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("a"), 2);
    EXPECT_EQ(p1.calls_for("b"), 4) << "two inner passes per outer pass";
    EXPECT_EQ(p1.calls_for("c"), 2);
    EXPECT_EQ(prompts_of(p1, "a"), (std::vector<std::string>{"a #1", "a #2"}));
    EXPECT_EQ(prompts_of(p1, "b"),
              (std::vector<std::string>{"b #1 after a1", "b #2 after a1", "b #1 after a2", "b #2 after a2"}))
        << "the inner loop starts over at pass 1 and sees the outer pass's a";
    EXPECT_EQ(prompts_of(p1, "d"), (std::vector<std::string>{"d a2 b-done c-done"}));
    auto rows = db().get_phases(out->run_id);
    ASSERT_TRUE(rows);
    EXPECT_EQ(std::count_if(rows->begin(), rows->end(), [](const ps::phase_record& r) {
                  return r.phase_id == "b" && r.status == phase_status::completed;
              }),
              4)
        << "each inner pass is its own checkpoint";
}

TEST_F(loop_test, resume_mid_loop_continues_at_the_failed_pass_with_the_stored_previous_values)
{
    bool broken = true;
    auto& p1 = add_provider("p1", [&](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        const int n = ++calls_[phase];
        fake_reply rep{phase};
        if (phase == "implement")
            rep.text = "impl" + std::to_string(n);
        if (phase == "review")
            rep.text = n >= 3 ? "approve" : "changes";
        if (broken && phase == "implement" && n == 2)
            rep.fail = pv::provider_errc::invalid_request;
        return rep;
    });
    load(review_loop_yaml(3));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::failed);
    EXPECT_EQ(db().get_phase(first->run_id, "implement", 2).value().status, phase_status::failed);
    const auto before = p1.requests.size();
    ASSERT_EQ(before, 4u) << "plan, implement #1, review #1, implement #2 (failed)";

    broken = false;
    open_store();  // as a new process would
    sink.events.clear();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    std::vector<std::string> resumed;
    for (std::size_t i = before; i < p1.requests.size(); ++i)
        resumed.push_back(p1.requests[i].metadata.at("phase") + ":" + last_user_text(p1.requests[i]));
    // implement #2 again (with the stored review #1), review #2, then #3 (approve), then ship.
    ASSERT_GE(resumed.size(), 2u);
    EXPECT_EQ(resumed[0], "implement:implement #2 review=[changes] before=[impl1]");
    EXPECT_EQ(resumed[1], "review:review impl3");
    EXPECT_EQ(std::count_if(resumed.begin(), resumed.end(), [](const std::string& s) { return s.rfind("plan:", 0) == 0; }),
              0)
        << "a completed instance is never requested again";
    EXPECT_EQ(resumed.back().rfind("ship:", 0), 0u) << resumed.back();
    EXPECT_EQ(db().get_phase(first->run_id, "implement", 2).value().status, phase_status::completed);
    EXPECT_EQ(db().get_phase(first->run_id, "review", 1).value().output_text, "changes");
}

}  // namespace
}  // namespace ep::engine::exec_test
