// The shipped control-flow workflows through the real `ep-run --emulate` (HTTP/SSE to the
// in-process emulator on loopback): the review loop goes round twice, the planner's JSON task
// list fans out, the release gate waits (exit 3) and goes on after --approve/--reject; every
// --json line validates against schemas/events.schema.json.
#include "ep_run_process.hpp"

#include <ep/engine/loader.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <filesystem>
#include <set>
#include <stdexcept>
#include <sstream>

namespace {

namespace fs = std::filesystem;
namespace ps = ep::persistence;

using ep::testing::ep_run_binary;
using ep::testing::scratch_dir;
using ep::testing::slurp;
using ep::testing::spawn_ep_run;
using ep::testing::wait_child;

std::string shipped(const std::string& name) { return (fs::path(EP_SOURCE_DIR) / "workflows" / name).string(); }

struct run_result
{
    int code = -1;
    std::vector<nlohmann::json> events;
    std::string err;
};

class control_flow_emulator : public ::testing::Test
{
protected:
    void SetUp() override
    {
        if (!fs::exists(ep_run_binary()))
            GTEST_SKIP() << ep_run_binary() << " is not built";
        schema_doc_ = nlohmann::json::parse(ep::engine::embedded_schema("events"));
        valijson::SchemaParser parser;
        valijson::adapters::NlohmannJsonAdapter a(schema_doc_);
        parser.populateSchema(a, schema_);
    }

    // Runs ep-run with `args` + --emulate --json --quiet --db; every stdout line must be an event
    // that the events schema accepts.
    run_result ep_run(std::vector<std::string> args)
    {
        for (const char* a : {"--emulate", "--json", "--quiet", "--db"})
            args.emplace_back(a);
        args.push_back(db_);
        auto pid = spawn_ep_run(args, dir_ / "out", dir_ / "err", dir_.path());
        run_result r;
        r.code = wait_child(pid).code;
        r.err = slurp(dir_ / "err");
        std::istringstream lines(slurp(dir_ / "out"));
        std::string line;
        while (std::getline(lines, line))
        {
            auto j = nlohmann::json::parse(line, nullptr, false);
            EXPECT_FALSE(j.is_discarded()) << line;
            valijson::Validator v;
            valijson::adapters::NlohmannJsonAdapter target(j);
            EXPECT_TRUE(v.validate(schema_, target, nullptr)) << "not in events.schema.json: " << line;
            r.events.push_back(std::move(j));
        }
        return r;
    }

    static std::vector<const nlohmann::json*> of(const run_result& r, const std::string& type, const std::string& phase)
    {
        std::vector<const nlohmann::json*> out;
        for (const auto& e : r.events)
            if (e.value("type", "") == type && e.value("phase", "") == phase)
                out.push_back(&e);
        return out;
    }

    std::unique_ptr<ps::store> store()
    {
        auto s = ps::sqlite_store::open(db_);
        if (!s)
            throw std::runtime_error(s.error().to_string());
        EXPECT_TRUE((*s)->integrity_check()) << "PRAGMA integrity_check";
        return std::move(*s);
    }

    scratch_dir dir_{"ep-flow-"};
    std::string db_ = (dir_ / "runs.db").string();
    nlohmann::json schema_doc_;
    valijson::Schema schema_;
};

TEST_F(control_flow_emulator, the_review_loop_goes_round_twice_and_quotes_the_findings)
{
    auto r = ep_run({shipped("design-implement-review.yaml"), "--input", "task=a url shortener"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto reviews = of(r, "phase_completed", "review");
    ASSERT_EQ(reviews.size(), 2u);
    EXPECT_EQ(reviews[0]->at("iteration"), 1);
    EXPECT_EQ(reviews[1]->at("iteration"), 2);
    auto first = nlohmann::json::parse(reviews[0]->at("output").get<std::string>());
    auto second = nlohmann::json::parse(reviews[1]->at("output").get<std::string>());
    EXPECT_EQ(first["verdict"], "request_changes");
    EXPECT_EQ(second["verdict"], "approve");
    EXPECT_EQ(of(r, "phase_completed", "design").size(), 1u) << "outside the loop: once";
    auto s = store();
    EXPECT_EQ(s->get_phase(s->list_runs(1).value().front().id, "implement", 2).value().status,
              ps::phase_status::completed);
}

TEST_F(control_flow_emulator, the_planners_task_list_fans_out_one_instance_per_task)
{
    auto r = ep_run({shipped("plan-fanout.yaml"), "--input", "task=a todo list"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::set<int> items;
    for (const auto* e : of(r, "phase_completed", "implement"))
        if (e->contains("item"))
            items.insert(e->at("item").get<int>());
    EXPECT_EQ(items, (std::set<int>{0, 1, 2})) << "the emulated planner lists three tasks";
    ASSERT_EQ(of(r, "phase_completed", "merge").size(), 1u);
    ASSERT_EQ(of(r, "phase_completed", "review").size(), 1u);

    auto s = store();
    const auto run_id = s->list_runs(1).value().front().id;
    auto aggregate = s->get_phase(run_id, "implement").value();
    ASSERT_TRUE(aggregate.output_json);
    ASSERT_EQ((*aggregate.output_json)["outputs"].size(), 3u);
    // Each item implemented its own task: item N's answer names task N+1's title.
    for (int i = 0; i < 3; ++i)
    {
        EXPECT_NE(s->get_phase(run_id, "implement", 1, i).value().output_text.find("emulated title " + std::to_string(i + 1)),
                  std::string::npos)
            << i;
    }
}

TEST_F(control_flow_emulator, the_release_gate_waits_then_an_approval_writes_the_notes)
{
    auto r = ep_run({shipped("release-gate.yaml"), "--input", "version=2.4.0", "--input", "changes=faster startup"});
    ASSERT_EQ(r.code, 3) << r.err;
    auto waiting = of(r, "phase_waiting", "approve");
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(r.events.back()["status"], "waiting");
    EXPECT_TRUE(of(r, "phase_started", "notes").empty());
    const auto run_id = r.events.front()["run_id"].get<std::string>();
    EXPECT_NE(r.err.find("ep-run --approve " + run_id + " approve --db " + db_ + " --emulate"), std::string::npos) << r.err;

    auto approved = ep_run({"--approve", run_id, "approve", "--comment", "ship it"});
    ASSERT_EQ(approved.code, 0) << approved.err;
    auto recorded = of(approved, "approval_recorded", "approve");
    ASSERT_EQ(recorded.size(), 1u);
    EXPECT_EQ(recorded[0]->at("decision"), "approve");
    EXPECT_EQ(recorded[0]->at("comment"), "ship it");
    EXPECT_EQ(of(approved, "phase_completed", "notes").size(), 1u);
    EXPECT_TRUE(of(approved, "phase_started", "checks").empty()) << "checks completed before: not sent again";
    auto s = store();
    auto gate = s->get_phase(run_id, "approve").value();
    ASSERT_TRUE(gate.output_json);
    EXPECT_EQ((*gate.output_json)["approved"], true);
    EXPECT_EQ(s->get_run(run_id).value().status, ps::run_status::completed);
}

TEST_F(control_flow_emulator, a_rejected_release_skips_the_notes)
{
    auto r = ep_run({shipped("release-gate.yaml"), "--input", "version=2.4.0", "--input", "changes=x"});
    ASSERT_EQ(r.code, 3) << r.err;
    const auto run_id = r.events.front()["run_id"].get<std::string>();
    auto rejected = ep_run({"--reject", run_id, "approve", "--comment", "not this week"});
    ASSERT_EQ(rejected.code, 0) << rejected.err;
    auto skipped = of(rejected, "phase_skipped", "notes");
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0]->at("reason"), "when '.phases.approve.json.approved' is false");
}

}  // namespace
