// Control flow in the store: phase instances keyed by (phase, iteration, item), approval gates
// (`waiting`), run options and a fork's origin.

#include "conformance.hpp"

namespace ep::persistence::conformance {
namespace {

phase_record instance(const std::string& run_id, const std::string& phase_id, int iteration,
                      std::optional<int> item, timestamp started)
{
    auto p = make_phase(run_id, phase_id);
    p.iteration = iteration;
    p.item = item;
    p.started = started;
    p.output_text =
        phase_id + "#" + std::to_string(iteration) + (item ? "[" + std::to_string(*item) + "]" : "");
    return p;
}

TEST_P(instances, each_iteration_and_item_is_a_checkpoint_of_its_own)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    // A loop body run twice, and a fan-out of three items with its own (aggregate) row.
    ASSERT_TRUE(s->commit_phase(instance(id, "review", 1, std::nullopt, timestamp(100ms)), {}));
    ASSERT_TRUE(s->commit_phase(instance(id, "review", 2, std::nullopt, timestamp(400ms)), {}));
    for (int i = 2; i >= 0; --i)  // committed out of order: reads order them
        ASSERT_TRUE(s->commit_phase(instance(id, "build", 1, i, timestamp(200ms)), {}));
    auto aggregate = instance(id, "build", 1, std::nullopt, timestamp(200ms));
    aggregate.output_json = nlohmann::json::array({"a", "b", "c"});
    aggregate.input_tokens = aggregate.output_tokens = 0;  // the items carry the usage
    aggregate.cost_usd = 0;
    ASSERT_TRUE(s->commit_phase(aggregate, {}));

    EXPECT_EQ(s->get_phase(id, "review")->output_text, "review#1");  // defaults: iteration 1, no item
    EXPECT_EQ(s->get_phase(id, "review", 2)->output_text, "review#2");
    EXPECT_EQ(s->get_phase(id, "build", 1, 1)->output_text, "build#1[1]");
    EXPECT_EQ(s->get_phase(id, "build", 1, std::nullopt)->output_json,
              nlohmann::json::array({"a", "b", "c"}));
    auto missing = s->get_phase(id, "review", 3);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, persistence_errc::not_found);
    EXPECT_NE(missing.error().message.find("iteration 3"), std::string::npos) << missing.error().message;
    EXPECT_EQ(s->get_phase(id, "build", 1, 7).error().code, persistence_errc::not_found);

    auto all = s->get_phases(id);
    ASSERT_TRUE(all);
    std::vector<std::string> order;
    for (const auto& p : *all)
        order.push_back(p.output_text);
    // By start time, then phase, iteration, item (the fan-out's own row before its items).
    EXPECT_EQ(order, (std::vector<std::string>{"review#1", "build#1", "build#1[0]", "build#1[1]",
                                               "build#1[2]", "review#2"}));
    EXPECT_EQ((*all)[1].iteration, 1);
    EXPECT_FALSE((*all)[1].item);
    EXPECT_EQ((*all)[2].item, 0);
    EXPECT_EQ((*all)[5].iteration, 2);

    // Totals count every instance: 2 review passes + 3 items (the aggregate row carries none).
    auto run = s->get_run(id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->totals.input_tokens, 5 * 100);
    EXPECT_DOUBLE_EQ(run->totals.cost_usd, 5 * 0.25);
    EXPECT_EQ(run->totals.phases_completed, 6);
}

TEST_P(instances, completed_is_final_per_instance)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->commit_phase(instance(id, "implement", 1, std::nullopt, timestamp(1ms)), {}));
    ASSERT_TRUE(s->commit_phase(instance(id, "build", 1, 0, timestamp(1ms)), {}));

    // The next iteration and the other items are new instances.
    EXPECT_TRUE(s->begin_phase(id, "implement", 2));
    EXPECT_TRUE(s->begin_phase(id, "build", 1, 1));
    EXPECT_TRUE(s->begin_phase(id, "build", 1, std::nullopt));
    // The completed ones refuse, naming the instance.
    auto again = s->begin_phase(id, "build", 1, 0);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, persistence_errc::invalid_state);
    EXPECT_NE(again.error().message.find("item 0"), std::string::npos) << again.error().message;
    EXPECT_EQ(s->begin_phase(id, "implement").error().code, persistence_errc::invalid_state);
    auto overwrite = instance(id, "build", 1, 0, timestamp(1ms));
    overwrite.output_text = "different";
    EXPECT_EQ(s->commit_phase(overwrite, make_events("build", 1)).error().code,
              persistence_errc::invalid_state);
    EXPECT_EQ(s->get_phase(id, "build", 1, 0)->output_text, "build#1[0]");
    EXPECT_TRUE(s->get_events(id)->empty());

    EXPECT_EQ(s->get_phase(id, "implement", 2)->status, phase_status::running);
    EXPECT_EQ(s->get_phase(id, "build", 1, 1)->status, phase_status::running);
    EXPECT_EQ(s->get_phases(id)->size(), 5u);
}

TEST_P(instances, attempts_belong_to_an_instance)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    auto first = make_attempt(id, "build", 1, attempt_outcome::failed);
    first.item = 0;
    first.started = timestamp(10ms);
    auto other_item = make_attempt(id, "build", 1);
    other_item.item = 1;
    other_item.started = timestamp(10ms);
    auto second_pass = make_attempt(id, "review", 1);
    second_pass.iteration = 2;
    second_pass.started = timestamp(20ms);
    ASSERT_TRUE(s->record_attempt(first));
    ASSERT_TRUE(s->record_attempt(other_item));  // the same number, another instance: both kept
    auto retry = first;
    retry.attempt = 2;
    retry.outcome = attempt_outcome::ok;
    retry.started = timestamp(15ms);
    ASSERT_TRUE(s->commit_phase(instance(id, "build", 1, 0, timestamp(10ms)), {}, {retry}));
    ASSERT_TRUE(s->commit_phase(instance(id, "review", 2, std::nullopt, timestamp(20ms)), {}, {second_pass}));

    auto build = s->get_attempts(id, std::string("build"));
    ASSERT_TRUE(build);
    ASSERT_EQ(build->size(), 3u);
    // By start time, then phase, iteration, item, attempt.
    EXPECT_EQ((*build)[0].item, 0);
    EXPECT_EQ((*build)[0].attempt, 1);
    EXPECT_EQ((*build)[1].item, 1);
    EXPECT_EQ((*build)[1].attempt, 1);
    EXPECT_EQ((*build)[2].item, 0);
    EXPECT_EQ((*build)[2].attempt, 2);
    EXPECT_EQ((*build)[2].outcome, attempt_outcome::ok);
    auto review = s->get_attempts(id, std::string("review"));
    ASSERT_TRUE(review);
    ASSERT_EQ(review->size(), 1u);
    EXPECT_EQ(review->front().iteration, 2);
    EXPECT_FALSE(review->front().item);
}

TEST_P(instances, an_iteration_below_1_or_a_negative_item_is_refused)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    EXPECT_EQ(s->begin_phase(id, "x", 0).error().code, persistence_errc::invalid_argument);
    EXPECT_EQ(s->begin_phase(id, "x", 1, -1).error().code, persistence_errc::invalid_argument);
    EXPECT_EQ(s->commit_phase(instance(id, "x", 0, std::nullopt, timestamp(1ms)), {}).error().code,
              persistence_errc::invalid_argument);
    EXPECT_EQ(s->commit_phase(instance(id, "x", 1, -2, timestamp(1ms)), {}).error().code,
              persistence_errc::invalid_argument);
    auto a = make_attempt(id, "x", 1);
    a.iteration = -1;
    EXPECT_EQ(s->record_attempt(a).error().code, persistence_errc::invalid_argument);
    EXPECT_TRUE(s->get_phases(id)->empty());
}

TEST_P(instances, a_gate_waits_as_a_phase_status_and_a_run_status)
{
    auto s = open();
    ASSERT_TRUE(s);
    const auto id = s->create_run(make_run()).value().id;
    ASSERT_TRUE(s->acquire_lease(id, "host-a:1", 30s));
    auto gate = make_phase(id, "ship");
    gate.status = phase_status::waiting;
    gate.output_json.reset();
    gate.output_text.clear();
    event_record waiting;
    waiting.type = "phase_waiting";
    waiting.payload = {{"phase", "ship"}, {"prompt", "Merge the branch?"}};
    ASSERT_TRUE(s->commit_phase(gate, {waiting}));
    ASSERT_TRUE(s->set_run_status(id, run_status::waiting));

    auto run = s->get_run(id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, run_status::waiting);
    EXPECT_FALSE(run->finished);
    EXPECT_EQ(run->owner, "") << "nobody owns a run that waits at a gate";
    EXPECT_FALSE(run->heartbeat);
    EXPECT_EQ(s->renew_lease(id, "host-a:1").error().code, persistence_errc::lease_held);
    EXPECT_EQ(s->get_phase(id, "ship")->status, phase_status::waiting);
    EXPECT_TRUE(s->integrity_check());

    // --approve from anywhere, at once: the lease is free; the gate's decision completes it.
    ASSERT_TRUE(s->acquire_lease(id, "host-b:2", 30s));
    ASSERT_TRUE(s->set_run_status(id, run_status::running));
    auto decided = make_phase(id, "ship");
    decided.output_json = nlohmann::json{{"approved", true}, {"comment", "ok"}, {"by", "alice"}};
    ASSERT_TRUE(s->commit_phase(decided, {}));
    EXPECT_EQ(s->get_phase(id, "ship")->status, phase_status::completed);
    EXPECT_EQ(s->get_run(id)->owner, "host-b:2");
}

TEST_P(instances, run_options_and_a_forks_origin_are_kept)
{
    auto s = open();
    ASSERT_TRUE(s);
    auto in = make_run();
    in.options = {{"workspace", "/tmp/ws"}, {"max_cost_usd", 2.5}, {"git", true}, {"fail_fast", false}};
    in.parent_run_id = "20250101T000000Z-00000001";
    in.parent_phase = "implement";
    const auto id = s->create_run(in).value().id;
    auto got = s->get_run(id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->options, in.options);
    EXPECT_EQ(got->parent_run_id, in.parent_run_id);
    EXPECT_EQ(got->parent_phase, "implement");

    ASSERT_TRUE(s->set_run_options(id, {{"max_cost_usd", 5}}));  // replaces the whole object
    EXPECT_EQ(s->get_run(id)->options, (nlohmann::json{{"max_cost_usd", 5}}));
    EXPECT_EQ(s->list_runs(1)->front().options, (nlohmann::json{{"max_cost_usd", 5}}));
    EXPECT_EQ(s->set_run_options("nope", {}).error().code, persistence_errc::not_found);

    // An ordinary run: empty options object, no parent.
    auto plain = s->get_run(s->create_run(make_run()).value().id);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->options, nlohmann::json::object());
    EXPECT_EQ(plain->parent_run_id, "");
    EXPECT_EQ(plain->parent_phase, "");
}

}  // namespace
}  // namespace ep::persistence::conformance
