// The event stream against schemas/events.schema.json, and the sinks' output.
#include "executor_test_util.hpp"

#include <ep/providers/error.hpp>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <set>
#include <sstream>

namespace ep::engine::exec_test {
namespace {

class events_schema
{
public:
    events_schema()
    {
        doc_ = nlohmann::json::parse(embedded_schema("events"));
        valijson::SchemaParser parser;
        valijson::adapters::NlohmannJsonAdapter a(doc_);
        parser.populateSchema(a, schema_);
    }
    bool valid(const nlohmann::json& j)
    {
        valijson::Validator v;
        valijson::adapters::NlohmannJsonAdapter t(j);
        return v.validate(schema_, t, nullptr);
    }

private:
    nlohmann::json doc_;
    valijson::Schema schema_;
};

TEST_F(executor_fixture, every_event_matches_the_events_schema)
{
    int n = 0;
    add_provider("p1", [&](const pv::chat_request& r) {
        fake_reply rep{"text of " + r.metadata.at("phase")};
        if (r.metadata.at("phase") == "b" && ++n == 1)
            rep.fail = pv::provider_errc::overloaded;  // retried: attempt_failed with retry_in_ms
        if (r.metadata.at("phase") == "c")
            rep.fail = pv::provider_errc::invalid_request;
        return rep;
    });
    load(R"(
name: ev
phases:
  a: {persona: writer, prompt: "a"}
  b: {persona: writer, needs: [a], prompt: "b"}
  c: {persona: writer, needs: [a], prompt: "c"}
  d: {persona: writer, needs: [c], prompt: "d"}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    events_schema schema;
    std::set<std::string> seen;
    for (const auto& e : sink.events)
    {
        const auto j = e.to_json();
        EXPECT_TRUE(schema.valid(j)) << j.dump();
        seen.insert(e.type);
    }
    for (auto t : {"run_started", "phase_started", "text_delta", "attempt_failed", "phase_completed", "phase_failed",
                   "phase_skipped", "run_completed"})
        EXPECT_TRUE(seen.count(t)) << t;
    auto failed = sink.of_type("attempt_failed");
    ASSERT_FALSE(failed.empty());
    EXPECT_TRUE(failed.front()->fields.contains("retry_in_ms"));
    // Events in the store validate too (the conversation record aside).
    for (const auto& e : db().get_events(out->run_id).value())
    {
        if (e.type == "phase_conversation")
            continue;
        run_event ev{e.type, e.run_id, e.ts, e.payload};
        EXPECT_TRUE(schema.valid(ev.to_json())) << ev.to_json().dump();
    }
    // A negative control so the validator is known to reject things.
    EXPECT_FALSE(schema.valid({{"type", "phase_completed"}, {"ts", "x"}, {"run_id", "r"}}));
}

// An unknown cost (a model without a price) is null in phase_completed, and still valid.
TEST(events, an_unknown_cost_is_null_not_zero)
{
    const auto unknown = events::phase_completed("r", "a", "ollama", "llama3.1", 1, 2, std::nullopt, "x");
    EXPECT_TRUE(unknown.to_json().at("cost_usd").is_null()) << unknown.to_json().dump();
    EXPECT_FALSE(unknown.cost_usd().has_value());
    const auto known = events::phase_completed("r", "a", "openai", "gpt", 1, 2, 0.25, "x");
    EXPECT_EQ(known.to_json().at("cost_usd"), 0.25);
    EXPECT_EQ(known.cost_usd(), 0.25);
    events_schema schema;
    EXPECT_TRUE(schema.valid(unknown.to_json())) << unknown.to_json().dump();
    EXPECT_TRUE(schema.valid(known.to_json()));
    auto negative = known.to_json();
    negative["cost_usd"] = -1;
    EXPECT_FALSE(schema.valid(negative));
}

TEST_F(executor_fixture, loop_fan_out_and_gate_events_match_the_events_schema)
{
    int reviews = 0;
    add_provider("p1", [&](const pv::chat_request& r) {
        const auto phase = r.metadata.at("phase");
        if (phase == "plan")
            return fake_reply{R"({"tasks": ["x", "y"]})"};
        if (phase == "review")
            return fake_reply{++reviews >= 2 ? "approve" : "changes"};
        return fake_reply{phase};
    });
    load(R"(
name: ev-flow
phases:
  plan: {persona: writer, prompt: "plan", output: {format: json}}
  build: {persona: writer, needs: [plan], for_each: '.phases.plan.json.tasks', prompt: "build {{ item }}"}
  review:
    persona: writer
    needs: [build]
    prompt: "review"
    repeat: {from: build, until: '.phases.review.output == "approve"', max_iterations: 3}
  ship: {needs: [review], approval: {prompt: "Ship?"}}
  notes: {persona: writer, needs: [ship], when: '.phases.ship.json.approved', prompt: "notes"}
)");
    auto first = run_workflow();
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->status, run_status::waiting);
    decision_ = approval_decision{"ship", false, "not now", "bob"};
    open_store();
    auto second = run_workflow({}, first->run_id);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(second->status, run_status::completed) << second->error;

    events_schema schema;
    std::set<std::string> seen;
    bool item_seen = false, iteration_seen = false;
    for (const auto& e : sink.events)
    {
        const auto j = e.to_json();
        EXPECT_TRUE(schema.valid(j)) << j.dump();
        seen.insert(e.type);
        item_seen = item_seen || j.contains("item");
        iteration_seen = iteration_seen || (j.contains("iteration") && j["iteration"] == 2);
    }
    for (auto t : {"phase_waiting", "approval_recorded", "phase_skipped", "phase_completed"})
    {
        EXPECT_TRUE(seen.count(t)) << t;
    }
    EXPECT_TRUE(item_seen);
    EXPECT_TRUE(iteration_seen);
    EXPECT_TRUE(schema.valid(events::run_completed("r", "waiting").to_json()));
    // Negative controls: an unknown decision, an item below 0.
    auto bad = events::approval_recorded("r", "ship", true, "");
    bad.fields["decision"] = "maybe";
    EXPECT_FALSE(schema.valid(bad.to_json()));
    auto bad_item = events::phase_started("r", "build", 1, "p", "m");
    bad_item.fields["item"] = -1;
    EXPECT_FALSE(schema.valid(bad_item.to_json()));
}

TEST(event_sinks, json_lines_are_one_object_per_line_with_type_ts_run_id)
{
    std::ostringstream out;
    auto sink = make_json_lines_sink(out);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::text_delta("r1", "a", "line1\nline2"));
    std::istringstream in(out.str());
    std::string line;
    int lines = 0;
    while (std::getline(in, line))
    {
        auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["run_id"], "r1");
        EXPECT_TRUE(j.contains("ts"));
        EXPECT_EQ(j["ts"].get<std::string>().size(), 24u);  // 2024-05-01T12:00:00.123Z
        ++lines;
    }
    EXPECT_EQ(lines, 2);
}

}  // namespace
}  // namespace ep::engine::exec_test
