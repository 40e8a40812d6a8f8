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

}  // namespace
