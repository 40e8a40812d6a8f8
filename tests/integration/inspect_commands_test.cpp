// `ep-run --list`, `--show RUN_ID` and `--show RUN_ID --output PHASE` on a run that the real
// `ep-run --emulate` made: what a user reads after a run, checked against the run's own events.
#include "ep_run_process.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ep::testing::slurp;

class inspect_commands : public ::testing::Test
{
protected:
    void SetUp() override
    {
        if (!fs::exists(ep::testing::ep_run_binary()))
            GTEST_SKIP() << ep::testing::ep_run_binary() << " is not built";
    }

    // Runs ep-run with `args` + `--db db`; returns the exit code, stdout and stderr.
    struct ran
    {
        int code = -1;
        std::string out, err;
    };
    ran ep_run(std::vector<std::string> args)
    {
        args.push_back("--db");
        args.push_back(db);
        const auto pid = ep::testing::spawn_ep_run(args, dir / "out", dir / "err", dir.path());
        const auto done = ep::testing::wait_child(pid, 60s);
        return {done.exited ? done.code : -1, slurp(dir / "out"), slurp(dir / "err")};
    }

    ep::testing::scratch_dir dir{"ep-inspect-"};
    std::string db = (dir / "runs.db").string();
};

// The line of `text` that starts with `prefix` ("" when none does).
std::string line_starting(const std::string& text, const std::string& prefix)
{
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line))
        if (line.rfind(prefix, 0) == 0)
            return line;
    return {};
}

TEST_F(inspect_commands, list_show_and_output_report_what_the_run_did)
{
    const auto workflow = (fs::path(EP_SOURCE_DIR) / "workflows" / "design-implement-review.yaml").string();
    const auto run = ep_run({workflow, "--emulate", "--json", "--input", "task=a thread-safe LRU cache"});
    ASSERT_EQ(run.code, 0) << run.err;

    // What the run itself reported, phase by phase.
    std::string run_id;
    std::map<std::string, nlohmann::json> completed;
    std::istringstream lines(run.out);
    std::string line;
    while (std::getline(lines, line))
    {
        auto e = nlohmann::json::parse(line);
        run_id = e.at("run_id");
        // Keyed as --show names instances: "implement #2" is the loop's second pass.
        if (e.at("type") == "phase_completed")
            completed[e.at("phase").get<std::string>() +
                      (e.value("iteration", 1) > 1 ? " #" + std::to_string(e.value("iteration", 1)) : "")] = e;
    }
    ASSERT_EQ(completed.size(), 5u) << "design, then implement and review twice (the reviewer asks for changes once)";

    const auto list = ep_run({"--list"});
    ASSERT_EQ(list.code, 0) << list.err;
    const auto row = line_starting(list.out, run_id);
    ASSERT_FALSE(row.empty()) << list.out;
    EXPECT_NE(row.find("completed"), std::string::npos) << row;
    EXPECT_NE(row.find(" design-implement-review "), std::string::npos) << "the whole workflow name: " << row;
    long tokens = 0;
    for (const auto& [phase, e] : completed)
        tokens += e["usage"]["input_tokens"].get<long>() + e["usage"]["output_tokens"].get<long>();
    EXPECT_NE(row.find(" " + std::to_string(tokens) + " "), std::string::npos) << "total tokens " << tokens << ": " << row;

    const auto show = ep_run({"--show", run_id});
    ASSERT_EQ(show.code, 0) << show.err;
    EXPECT_NE(line_starting(show.out, "status").find("completed"), std::string::npos) << show.out;
    for (const auto& [phase, e] : completed)
    {
        const auto phase_row = line_starting(show.out, phase + " ");
        ASSERT_FALSE(phase_row.empty()) << phase << " missing from\n" << show.out;
        EXPECT_NE(phase_row.find(e["provider"].get<std::string>() + "/" + e["model"].get<std::string>()),
                  std::string::npos)
            << phase_row;
        const auto usage = std::to_string(e["usage"]["input_tokens"].get<long>()) + "/" +
                           std::to_string(e["usage"]["output_tokens"].get<long>());
        EXPECT_NE(phase_row.find(usage), std::string::npos) << phase_row;
        EXPECT_NE(phase_row.find("$"), std::string::npos) << "cost column: " << phase_row;
    }

    for (const auto& [name, e] : completed)
    {
        const auto phase = e["phase"].get<std::string>();
        const auto iteration = std::to_string(e.value("iteration", 1));
        const auto output = ep_run({"--show", run_id, "--output", phase, "--iteration", iteration});
        ASSERT_EQ(output.code, 0) << output.err;
        auto expected = e["output"].get<std::string>();
        if (expected.empty() || expected.back() != '\n')
            expected += '\n';
        EXPECT_EQ(output.out, expected) << phase << ": exactly the stored output, nothing around it";
    }

    // Without --iteration: the last pass.
    const auto last = ep_run({"--show", run_id, "--output", "review"});
    ASSERT_EQ(last.code, 0) << last.err;
    EXPECT_NE(last.out.find("\"approve\""), std::string::npos) << last.out;

    const auto missing = ep_run({"--show", run_id, "--output", "nope"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("no phase 'nope'"), std::string::npos) << missing.err;
    EXPECT_TRUE(missing.out.empty()) << missing.out;
}

TEST_F(inspect_commands, list_shows_the_newest_50_runs_and_says_when_there_are_more)
{
    std::vector<std::string> ids;
    auto add_runs = [&](int n) {
        auto store = ep::persistence::sqlite_store::open(db);
        ASSERT_TRUE(store) << store.error().to_string();
        for (int i = 0; i < n; ++i)
        {
            ep::persistence::run_record r;
            r.workflow = "wf" + std::to_string(ids.size());
            r.definition = "name: wf\nphases:\n  a: {persona: architect, prompt: x}\n";
            r.mix = "A";
            ids.push_back((*store)->create_run(r).value().id);
        }
    };

    add_runs(50);
    auto list = ep_run({"--list"});
    ASSERT_EQ(list.code, 0) << list.err;
    for (const auto& id : ids)
    {
        EXPECT_FALSE(line_starting(list.out, id).empty()) << id;
    }
    EXPECT_TRUE(list.err.empty()) << "exactly 50: nothing more to say: " << list.err;

    add_runs(1);
    list = ep_run({"--list"});
    ASSERT_EQ(list.code, 0) << list.err;
    EXPECT_TRUE(line_starting(list.out, ids.front()).empty()) << "the oldest run is past the newest 50";
    EXPECT_FALSE(line_starting(list.out, ids.back()).empty());
    EXPECT_NE(list.err.find("newest 50 runs"), std::string::npos) << list.err;
}

// A model outside the catalogue has no price: the real ep-run --emulate shows its cost as
// unknown in the events, the console table, --show, --list and the report, never as $0; and a
// cost limit refuses to call it.
TEST_F(inspect_commands, a_model_without_a_price_shows_an_unknown_cost_everywhere)
{
    const auto workflow = (dir / "local.yaml").string();
    {
        std::ofstream f(workflow);
        f << "name: local\n"
             "personas:\n"
             "  local_writer: {provider_preferences: [openai/llama-local-9]}\n"
             "phases:\n"
             "  a: {persona: local_writer, prompt: \"write a haiku\"}\n"
             "  b: {persona: local_writer, needs: [a], prompt: \"review {{ phases.a.output }}\"}\n";
    }
    const auto report = (dir / "report.json").string();
    const auto run = ep_run({workflow, "--emulate", "--json", "--report", "json=" + report});
    ASSERT_EQ(run.code, 0) << run.err;
    std::string run_id;
    int completed = 0;
    std::istringstream lines(run.out);
    std::string line;
    while (std::getline(lines, line))
    {
        auto e = nlohmann::json::parse(line);
        run_id = e.at("run_id");
        if (e.at("type") != "phase_completed")
            continue;
        ++completed;
        EXPECT_EQ(e.at("model"), "llama-local-9");
        EXPECT_TRUE(e.at("cost_usd").is_null()) << line;
    }
    EXPECT_EQ(completed, 2);
    // The console's final table (stderr): each phase unknown, the total too.
    EXPECT_NE(run.err.find("unknown"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("≥ $0.0000 (2 unpriced)"), std::string::npos) << run.err;

    const auto show = ep_run({"--show", run_id});
    ASSERT_EQ(show.code, 0) << show.err;
    EXPECT_NE(line_starting(show.out, "cost").find("≥ $0.0000 (2 unpriced)"), std::string::npos) << show.out;
    for (const char* phase : {"a ", "b "})
    {
        const auto row = line_starting(show.out, phase);
        EXPECT_NE(row.find("unknown"), std::string::npos) << row;
        EXPECT_EQ(row.find("$"), std::string::npos) << row;
    }
    const auto list = ep_run({"--list"});
    ASSERT_EQ(list.code, 0) << list.err;
    EXPECT_NE(line_starting(list.out, run_id).find("≥ $0.0000 (2 unpriced)"), std::string::npos) << list.out;

    const auto doc = nlohmann::json::parse(slurp(report));
    EXPECT_TRUE(doc["totals"]["cost_usd"].is_null()) << doc.dump(2);
    EXPECT_EQ(doc["totals"]["unpriced_phases"], 2);
    EXPECT_TRUE(doc["phases"][0]["cost_usd"].is_null());

    // A cost limit cannot be kept with it: the call is refused, the run fails (resumable).
    const auto capped = ep_run({workflow, "--emulate", "--max-cost", "5"});
    EXPECT_EQ(capped.code, 1) << capped.err;
    EXPECT_NE(capped.err.find("openai/llama-local-9 has no price in the catalogue, so the run's $5.0000 budget "
                              "cannot be kept"),
              std::string::npos)
        << capped.err;
}

// A run still marked running shows the time so far; if its owner stopped heartbeating long ago
// (it died), the clock stops at the last heartbeat instead of growing for ever.
TEST_F(inspect_commands, a_running_runs_duration_is_the_time_so_far_or_up_to_a_dead_owners_last_heartbeat)
{
    namespace ps = ep::persistence;
    const auto start = ps::now_ms() - std::chrono::seconds(90);
    auto at = start;
    ps::sqlite_options o;
    o.clock = [&] { return at; };
    std::string live, dead;
    {
        auto store = ps::sqlite_store::open(db, o);
        ASSERT_TRUE(store) << store.error().to_string();
        ps::run_record r;
        r.workflow = "wf";
        r.definition = "name: wf\nphases:\n  a: {persona: architect, prompt: x}\n";
        r.mix = "A";
        live = (*store)->create_run(r).value().id;
        dead = (*store)->create_run(r).value().id;
        at = start + std::chrono::seconds(10);  // the dead owner's last heartbeat, 80 s ago
        ASSERT_TRUE((*store)->acquire_lease(dead, "gone:1", std::chrono::seconds(30)));
        ASSERT_TRUE((*store)->set_run_status(dead, ps::run_status::running));
        at = ps::now_ms();  // the live owner's heartbeat is fresh
        ASSERT_TRUE((*store)->acquire_lease(live, "here:1", std::chrono::seconds(30)));
        ASSERT_TRUE((*store)->set_run_status(live, ps::run_status::running));
    }
    const auto list = ep_run({"--list"});
    ASSERT_EQ(list.code, 0) << list.err;
    const auto live_row = line_starting(list.out, live);
    const auto dead_row = line_starting(list.out, dead);
    EXPECT_TRUE(live_row.find(" 90.") != std::string::npos || live_row.find(" 91.") != std::string::npos)
        << "90 s so far: " << live_row;
    EXPECT_NE(dead_row.find(" 10.0s "), std::string::npos) << "stopped at the last heartbeat: " << dead_row;
}

}  // namespace
