// kill -9 of the real `ep-run --emulate` at random moments, then `--resume`: every run
// completes, no phase recorded complete is sent again, and the database stays intact.
#include "ep_run_process.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace ps = ep::persistence;

using ep::testing::ep_run_binary;
using ep::testing::slurp;
using ep::testing::spawn_ep_run;  // paced: a run takes about 1.3 s, so the kills (30-1500 ms) mostly land mid-run
using ep::testing::wait_child;

TEST(crash_resume, kill_9_at_random_moments_then_resume_completes_every_run)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    const ep::testing::scratch_dir scratch("ep-crash-");
    const fs::path& dir = scratch.path();
    const auto workflow = (fs::path(EP_SOURCE_DIR) / "workflows" / "sdlc.yaml").string();

    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> delay_ms(30, 1500);
    int killed_mid_run = 0;
    for (int i = 0; i < 20; ++i)
    {
        SCOPED_TRACE("iteration " + std::to_string(i));
        const auto db = (dir / ("runs-" + std::to_string(i) + ".db")).string();
        auto pid = spawn_ep_run({workflow, "--emulate", "--json", "--quiet", "--db", db, "--input", "task=a notes app"},
                                dir / "run.out", dir / "run.err", dir);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        ::kill(pid, SIGKILL);
        const int code = wait_child(pid).code;

        std::string run_id;
        std::set<std::string> completed_before;
        {
            auto store = ps::sqlite_store::open(db);
            ASSERT_TRUE(store) << store.error().to_string();
            ASSERT_TRUE((*store)->integrity_check());
            auto runs = (*store)->list_runs(5).value();
            if (runs.empty())
                continue;  // killed before the run was created: nothing to resume
            run_id = runs.front().id;
            for (const auto& p : (*store)->get_phases(run_id).value())
                if (p.status == ps::phase_status::completed)
                    completed_before.insert(p.phase_id);
            if (runs.front().status == ps::run_status::completed)
            {
                // Finished before the kill, or killed between the final commit and exit.
                EXPECT_TRUE(code == 0 || code == 128 + SIGKILL) << code;
                continue;
            }
        }
        ++killed_mid_run;
        auto rpid = spawn_ep_run({"--resume", run_id, "--emulate", "--json", "--quiet", "--db", db},
                                 dir / "resume.out", dir / "resume.err", dir);
        const int rcode = wait_child(rpid).code;
        EXPECT_EQ(rcode, 0) << slurp(dir / "resume.err");

        std::istringstream lines(slurp(dir / "resume.out"));
        std::string line;
        while (std::getline(lines, line))
        {
            auto j = nlohmann::json::parse(line, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << line;
            if (j.value("type", "") == "phase_started")
            {
                EXPECT_FALSE(completed_before.count(j.value("phase", ""))) << "phase requested again: " << line;
            }
        }
        auto store = ps::sqlite_store::open(db);
        ASSERT_TRUE(store);
        EXPECT_TRUE((*store)->integrity_check());
        auto run = (*store)->get_run(run_id).value();
        EXPECT_EQ(run.status, ps::run_status::completed) << run.error;
        EXPECT_EQ(run.totals.phases_completed, 6);
    }
    EXPECT_GT(killed_mid_run, 5) << "the random kills should mostly land mid-run";
}


// A loop of 3 passes (implement -> review) after a 20-item fan-out (build), for the kills below.
const char* loop_fan_out_yaml = R"(
name: crash-flow
inputs:
  task: {type: string, default: a notes app}
phases:
  plan:
    persona: architect
    prompt: "Plan {{ inputs.task }} in one paragraph."
  build:
    persona: code_writer
    needs: [plan]
    for_each: '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]'
    max_parallel: 5
    prompt: "Build part {{ index }} of {{ inputs.task }}."
  implement:
    persona: code_writer
    needs: [build]
    prompt: "Implement pass {{ loop.iteration }}. Findings: {{ previous.review.output }}"
  review:
    persona: reviewer
    needs: [implement]
    prompt: "Review pass {{ loop.iteration }}."
    repeat: {from: implement, until: '.iteration >= 3', max_iterations: 3}
)";

// (phase, iteration, item) of an instance, as the store and the events name it.
using instance_key = std::tuple<std::string, int, int>;  // item -1: the phase itself

TEST(crash_resume, kill_9_mid_loop_and_mid_fan_out_never_requests_a_completed_instance_again)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    const ep::testing::scratch_dir scratch("ep-crash-flow-");
    const fs::path& dir = scratch.path();
    const auto workflow = (dir / "crash-flow.yaml").string();
    {
        std::ofstream(workflow) << loop_fan_out_yaml;
    }
    const auto db = (dir / "runs.db").string();
    fs::path out = dir / "run-0.out";
    auto pid = spawn_ep_run({workflow, "--emulate", "--json", "--quiet", "--db", db}, out, dir / "run.err", dir);
    std::map<instance_key, int> completed_before;  // what was completed when `pid` started
    std::mt19937 rng(4242);
    std::uniform_int_distribution<int> delay_ms(100, 900);  // a paced run takes about 6 s
    std::string run_id;
    int kills = 0;
    for (; kills < 20; ++kills)
    {
        SCOPED_TRACE("kill " + std::to_string(kills));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        ::kill(pid, SIGKILL);
        wait_child(pid);
        // The killed process's requests (one phase_started per provider request, with its
        // iteration and item): none may be for an instance completed before it started.
        std::istringstream lines(slurp(out));
        for (std::string line; std::getline(lines, line);)
        {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded() || j.value("type", "") != "phase_started")
                continue;  // a line cut by the kill
            const instance_key key{j.value("phase", ""), j.value("iteration", 1), j.value("item", -1)};
            EXPECT_FALSE(completed_before.count(key)) << "completed instance requested again: " << line;
        }

        completed_before.clear();
        ps::run_status status = ps::run_status::running;
        {
            auto store = ps::sqlite_store::open(db);
            ASSERT_TRUE(store) << store.error().to_string();
            ASSERT_TRUE((*store)->integrity_check()) << "PRAGMA integrity_check after kill -9";
            auto runs = (*store)->list_runs(5).value();
            if (!runs.empty())
            {
                run_id = runs.front().id;
                status = runs.front().status;
                for (const auto& p : (*store)->get_phases(run_id).value())
                    if (p.status == ps::phase_status::completed)
                        completed_before[{p.phase_id, p.iteration, p.item.value_or(-1)}] = p.attempts;
            }
        }
        if (status == ps::run_status::completed)
            break;
        out = dir / ("resume-" + std::to_string(kills) + ".out");
        pid = run_id.empty()
                  ? spawn_ep_run({workflow, "--emulate", "--json", "--quiet", "--db", db}, out, dir / "resume.err", dir)
                  : spawn_ep_run({"--resume", run_id, "--emulate", "--json", "--quiet", "--db", db}, out,
                                 dir / "resume.err", dir);
    }
    // Let the last process finish (no kill), then check the end state.
    const int code = kills < 20 ? 0 : wait_child(pid).code;
    auto store = ps::sqlite_store::open(db);
    ASSERT_TRUE(store) << store.error().to_string();
    EXPECT_TRUE((*store)->integrity_check());
    ASSERT_FALSE(run_id.empty());
    auto run = (*store)->get_run(run_id).value();
    if (run.status != ps::run_status::completed)
    {
        EXPECT_NE(code, 0);
        auto rpid = spawn_ep_run({"--resume", run_id, "--emulate", "--json", "--quiet", "--db", db}, dir / "last.out",
                                 dir / "last.err", dir);
        EXPECT_EQ(wait_child(rpid).code, 0) << slurp(dir / "last.err");
        run = (*store)->get_run(run_id).value();
    }
    EXPECT_EQ(run.status, ps::run_status::completed) << run.error;
    int builds = 0, reviews = 0;
    for (const auto& p : (*store)->get_phases(run_id).value())
    {
        EXPECT_EQ(p.status, ps::phase_status::completed) << p.phase_id << " " << p.iteration;
        builds += p.phase_id == "build" && p.item;
        reviews += p.phase_id == "review";
    }
    EXPECT_EQ(builds, 20);
    EXPECT_EQ(reviews, 3);
    EXPECT_GE(kills, 10) << "most kills should land mid-run";
}

}  // namespace
