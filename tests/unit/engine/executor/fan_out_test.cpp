// `for_each:` fan-out on the executor (fake providers): one instance per item with item/index,
// outputs in item order whatever the finishing order, max_parallel respected, a failed item
// fails the phase after the others (or at once with fail-fast), a non-array or an oversized
// array fails with a clear message, and a resume runs only the items not completed.
#include "executor_test_util.hpp"

#include <algorithm>
#include <set>

namespace ep::engine::exec_test {
namespace {

std::string fan_out_yaml(int max_parallel)
{
    return R"(
name: fan-out
phases:
  plan:
    persona: writer
    prompt: "plan"
    output: {format: json}
  build:
    persona: writer
    needs: [plan]
    for_each: '.phases.plan.json.tasks'
    max_parallel: )" +
           std::to_string(max_parallel) + R"(
    prompt: "build {{ item.title }} #{{ index }}"
  merge:
    persona: writer
    needs: [build]
    prompt: "merge {{ phases.build.outputs }}"
)";
}

std::string tasks_json(int n)
{
    nlohmann::json tasks = nlohmann::json::array();
    for (int i = 0; i < n; ++i)
        tasks.push_back({{"title", "t" + std::to_string(i)}});
    return nlohmann::json{{"tasks", tasks}}.dump();
}

struct fan_out_test : executor_fixture
{
    // plan answers `plan_text`; build answers "done tN" (earlier items slower, so they finish
    // out of order) or fails for the items in `failing`.
    fake_provider& builder(std::string plan_text, std::set<std::string> failing = {}, bool hang_others = false)
    {
        return add_provider("p1", [this, plan_text, failing, hang_others](const pv::chat_request& r) {
            const auto phase = r.metadata.at("phase");
            if (phase == "plan")
                return fake_reply{plan_text};
            const auto text = last_user_text(r);
            if (phase != "build")
                return fake_reply{text};
            const auto title = text.substr(6, text.find(' ', 6) - 6);
            const int index = std::stoi(title.substr(1));
            fake_reply rep{"done " + title, std::chrono::milliseconds(std::max(0, 40 - 10 * index))};
            if (failing.count(title))
            {
                rep.delay = 1ms;
                rep.fail = pv::provider_errc::invalid_request;
            }
            else if (hang_others && !failing.empty())
                rep.hang = true;
            return rep;
        });
    }
};

TEST_F(fan_out_test, one_instance_per_item_with_outputs_in_item_order)
{
    auto& p1 = builder(tasks_json(4));
    load(fan_out_yaml(4));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("build"), 4);
    std::vector<std::string> prompts;
    for (const auto& r : p1.requests)
        if (r.metadata.at("phase") == "build")
            prompts.push_back(last_user_text(r));
    std::sort(prompts.begin(), prompts.end());
    EXPECT_EQ(prompts, (std::vector<std::string>{"build t0 #0", "build t1 #1", "build t2 #2", "build t3 #3"}));
    // t3 finishes first, t0 last (delays 40, 30, 20, 10 ms): the outputs are still in item order.
    const auto& merge = p1.requests.back();
    ASSERT_EQ(merge.metadata.at("phase"), "merge");
    EXPECT_EQ(last_user_text(merge), R"(merge ["done t0","done t1","done t2","done t3"])");

    auto aggregate = db().get_phase(out->run_id, "build");
    ASSERT_TRUE(aggregate);
    EXPECT_EQ(aggregate->status, phase_status::completed);
    ASSERT_TRUE(aggregate->output_json);
    EXPECT_EQ((*aggregate->output_json)["outputs"], nlohmann::json({"done t0", "done t1", "done t2", "done t3"}));
    for (int i = 0; i < 4; ++i)
    {
        auto item = db().get_phase(out->run_id, "build", 1, i);
        ASSERT_TRUE(item) << i;
        EXPECT_EQ(item->status, phase_status::completed);
        EXPECT_EQ(item->output_text, "done t" + std::to_string(i));
    }
    std::set<int> items_completed;
    for (const auto* e : sink.of_type("phase_completed"))
        if (e->field("phase") == "build" && e->fields.contains("item"))
            items_completed.insert(e->fields.at("item").get<int>());
    EXPECT_EQ(items_completed, (std::set<int>{0, 1, 2, 3})) << "item events carry their index";
}

TEST_F(fan_out_test, max_parallel_bounds_the_items_in_flight)
{
    auto& p1 = builder(tasks_json(7));
    load(fan_out_yaml(2));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("build"), 7);
    EXPECT_EQ(p1.max_in_flight, 2);
}

TEST_F(fan_out_test, a_failed_item_fails_the_phase_after_the_others_finish)
{
    auto& p1 = builder(tasks_json(5), {"t1"});
    load(fan_out_yaml(5));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("build"), 5) << "the other items still run";
    EXPECT_EQ(p1.calls_for("merge"), 0);
    for (int i : {0, 2, 3, 4})
    {
        EXPECT_EQ(db().get_phase(out->run_id, "build", 1, i).value().status, phase_status::completed) << i;
    }
    EXPECT_EQ(db().get_phase(out->run_id, "build", 1, 1).value().status, phase_status::failed);
    auto build = db().get_phase(out->run_id, "build");
    ASSERT_TRUE(build);
    EXPECT_EQ(build->status, phase_status::failed);
    EXPECT_EQ(build->error.rfind("item 1 failed: ", 0), 0u) << build->error;
    EXPECT_EQ(db().get_phase(out->run_id, "merge").value().status, phase_status::skipped);
}

TEST_F(fan_out_test, fail_fast_cancels_the_other_items_at_once)
{
    auto& p1 = builder(tasks_json(4), {"t1"}, true);
    load(fan_out_yaml(4));
    executor_options o;
    o.fail_fast = true;
    auto out = run_workflow(o);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.in_flight, 0);
    EXPECT_EQ(db().get_phase(out->run_id, "build", 1, 1).value().status, phase_status::failed);
    for (int i : {0, 2, 3})
    {
        EXPECT_EQ(db().get_phase(out->run_id, "build", 1, i).value().status, phase_status::cancelled) << i;
    }
    EXPECT_EQ(p1.calls_for("merge"), 0);
}

TEST_F(fan_out_test, a_value_that_is_not_an_array_fails_the_phase_with_its_type)
{
    auto& p1 = builder(R"({"tasks": {"title": "one"}})");
    load(fan_out_yaml(4));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("build"), 0);
    auto build = db().get_phase(out->run_id, "build");
    ASSERT_TRUE(build);
    EXPECT_EQ(build->status, phase_status::failed);
    EXPECT_EQ(build->error, "for_each '.phases.plan.json.tasks' gave object, not an array");
}

TEST_F(fan_out_test, more_than_ten_thousand_items_is_a_clear_error)
{
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 10'001; ++i)
        many.push_back(i);
    auto& p1 = builder(many.dump());
    load(R"(
name: too-many
phases:
  plan: {persona: writer, prompt: "plan", output: {format: json}}
  build:
    persona: writer
    needs: [plan]
    for_each: '.phases.plan.json'
    prompt: "build {{ index }}"
)");
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.calls_for("build"), 0);
    EXPECT_EQ(db().get_phase(out->run_id, "build").value().error,
              "for_each '.phases.plan.json' gave 10001 items; at most 10000 are allowed");
}

TEST_F(fan_out_test, an_empty_array_completes_with_no_outputs)
{
    auto& p1 = builder(R"({"tasks": []})");
    load(fan_out_yaml(4));
    auto out = run_workflow();
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(p1.calls_for("build"), 0);
    EXPECT_EQ(last_user_text(p1.requests.back()), "merge []");
}

TEST_F(fan_out_test, resume_runs_only_the_items_not_completed)
{
    std::set<std::string> failing{"t2", "t4"};
    auto& p1 = add_provider("p1", [&](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        if (phase == "plan")
            return fake_reply{tasks_json(6)};
        const auto text = last_user_text(r);
        fake_reply rep{"done:" + text};
        if (phase == "build" && failing.count(text.substr(6, 2)))
            rep.fail = pv::provider_errc::invalid_request;
        return rep;
    });
    load(fan_out_yaml(3));
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::failed);
    const auto before = p1.requests.size();
    EXPECT_EQ(before, 7u);

    failing.clear();
    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    std::vector<std::string> resumed;
    for (std::size_t i = before; i < p1.requests.size(); ++i)
        resumed.push_back(last_user_text(p1.requests[i]));
    ASSERT_EQ(resumed.size(), 3u) << "items 2 and 4, then merge";
    std::sort(resumed.begin(), resumed.begin() + 2);
    EXPECT_EQ(resumed[0], "build t2 #2");
    EXPECT_EQ(resumed[1], "build t4 #4");
    EXPECT_EQ(resumed[2], R"(merge ["done:build t0 #0","done:build t1 #1","done:build t2 #2","done:build t3 #3","done:build t4 #4","done:build t5 #5"])");
}

TEST_F(fan_out_test, resume_after_a_stop_mid_fan_out_runs_only_the_rest)
{
    run_control control;
    int completed_items = 0;
    bool stop_armed = true;
    auto& p1 = add_provider("p1", [&](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        if (phase == "plan")
            return fake_reply{tasks_json(8)};
        if (phase == "build")
            ++completed_items;
        return fake_reply{"done:" + last_user_text(r), 5ms};
    });
    load(fan_out_yaml(2));
    // Stop once three items have been requested (polling on the run's thread).
    asio::steady_timer poll(ctx);
    std::function<void()> check = [&] {
        if (stop_armed && completed_items >= 3)
        {
            stop_armed = false;
            control.request_stop();
            return;
        }
        poll.expires_after(1ms);
        poll.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                check();
        });
    };
    check();
    auto first = run_workflow({}, {}, &control);
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::interrupted);
    std::set<std::string> done_before;
    auto rows = db().get_phases(first->run_id).value();
    for (const auto& row : rows)
        if (row.phase_id == "build" && row.item && row.status == phase_status::completed)
            done_before.insert(row.output_text);
    ASSERT_FALSE(done_before.empty());
    ASSERT_LT(done_before.size(), 8u);
    const auto before = p1.requests.size();

    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;
    int builds = 0;
    for (std::size_t i = before; i < p1.requests.size(); ++i)
    {
        const auto text = last_user_text(p1.requests[i]);
        EXPECT_EQ(done_before.count("done:" + text), 0u) << text << " was completed before the stop";
        builds += p1.requests[i].metadata.at("phase") == "build";
    }
    EXPECT_EQ(builds, 8 - static_cast<int>(done_before.size()));
    EXPECT_EQ(p1.calls_for("plan"), 1);
}

}  // namespace
}  // namespace ep::engine::exec_test
