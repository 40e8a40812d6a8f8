// SIGINT/SIGTERM on the real `ep-run --emulate`: the first signal cancels the in-flight phases,
// records them and the run as interrupted, and exits 130; a second signal exits at once. Either
// way `--resume` finishes the run without sending a completed phase again, also when it switches
// the run to another mix with `--config`.
#include "ep_run_process.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace ps = ep::persistence;
using namespace std::chrono_literals;
using ep::testing::json_lines;  // the --json events so far (a partly written last line ignored)
using ep::testing::slurp;

bool streaming(const fs::path& out, const std::string& phase)
{
    for (const auto& e : json_lines(out))
        if (e.value("type", "") == "text_delta" && e.value("phase", "") == phase)
            return true;
    return false;
}

class signal_stop : public ::testing::Test
{
protected:
    void SetUp() override
    {
        if (!fs::exists(ep::testing::ep_run_binary()))
            GTEST_SKIP() << ep::testing::ep_run_binary() << " is not built";
    }

    // Starts the 6-phase sdlc workflow and waits until its `design` phase (about 0.5 s of
    // streaming at the paced emulator) is producing text, so a signal lands mid-phase.
    pid_t start_run_and_wait_for_design_to_stream(const std::vector<std::string>& extra_args = {})
    {
        const auto workflow = (fs::path(EP_SOURCE_DIR) / "workflows" / "sdlc.yaml").string();
        std::vector<std::string> args{workflow, "--emulate", "--json", "--db", db, "--input", "task=a notes app"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        const pid_t pid = ep::testing::spawn_ep_run(args, out(), err(), dir.path());
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!streaming(out(), "design") && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(2ms);
        EXPECT_TRUE(streaming(out(), "design")) << slurp(err());
        return pid;
    }

    // Resumes the run; it must complete without requesting any phase that was completed before.
    void resume_completes(const std::string& run_id, const std::set<std::string>& completed_before,
                          const std::vector<std::string>& extra_args = {})
    {
        std::vector<std::string> args{"--resume", run_id, "--emulate", "--json", "--db", db};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        const pid_t pid = ep::testing::spawn_ep_run(args, dir / "resume.out", dir / "resume.err", dir.path());
        const auto done = ep::testing::wait_child(pid, 60s);
        EXPECT_TRUE(done.exited && done.code == 0) << done.code << ": " << slurp(dir / "resume.err");
        for (const auto& e : json_lines(dir / "resume.out"))
        {
            if (e.value("type", "") == "phase_started")
            {
                EXPECT_FALSE(completed_before.count(e.value("phase", ""))) << "sent again: " << e.dump();
            }
        }
        auto store = ps::sqlite_store::open(db);
        ASSERT_TRUE(store) << store.error().to_string();
        auto run = (*store)->get_run(run_id).value();
        EXPECT_EQ(run.status, ps::run_status::completed) << run.error;
        EXPECT_EQ(run.totals.phases_completed, 6);
    }

    // The phases the store holds as completed.
    std::set<std::string> completed_phases(const std::string& run_id) const
    {
        std::set<std::string> ids;
        auto store = ps::sqlite_store::open(db);
        EXPECT_TRUE(store) << store.error().to_string();
        if (store)
            for (const auto& p : (*store)->get_phases(run_id).value())
                if (p.status == ps::phase_status::completed)
                    ids.insert(p.phase_id);
        return ids;
    }

    fs::path out() const { return dir / "run.out"; }
    fs::path err() const { return dir / "run.err"; }

    ep::testing::scratch_dir dir{"ep-signal-"};
    std::string db = (dir / "runs.db").string();
};

class first_signal : public signal_stop, public ::testing::WithParamInterface<int>
{
};

TEST_P(first_signal, cancels_and_records_the_in_flight_phase_marks_the_run_interrupted_and_exits_130)
{
    const pid_t pid = start_run_and_wait_for_design_to_stream();
    ASSERT_EQ(::kill(pid, GetParam()), 0);
    const auto done = ep::testing::wait_child(pid, 30s);
    EXPECT_FALSE(done.timed_out) << "the graceful stop hung";
    EXPECT_TRUE(done.exited) << "killed by signal " << done.code - 128 << " instead of stopping";
    EXPECT_EQ(done.code, 130) << slurp(err());

    const auto stderr_text = slurp(err());
    EXPECT_NE(stderr_text.find("stopping"), std::string::npos) << stderr_text;
    EXPECT_NE(stderr_text.find("[design] cancelled: interrupted\n"), std::string::npos) << stderr_text;

    // The event stream ends with the run's status ("cancelled" is the event schema's word for a
    // run stopped by a signal), and the store records the run as interrupted.
    const auto events = json_lines(out());
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().value("type", ""), "run_completed") << events.back().dump();
    EXPECT_EQ(events.back().value("status", ""), "cancelled") << events.back().dump();
    const std::string run_id = events.front().value("run_id", "");
    ASSERT_FALSE(run_id.empty());
    EXPECT_NE(stderr_text.find("ep-run --resume " + run_id), std::string::npos)
        << "the final summary gives the exact resume command: " << stderr_text;

    {
        auto store = ps::sqlite_store::open(db);
        ASSERT_TRUE(store) << store.error().to_string();
        EXPECT_TRUE((*store)->integrity_check());
        EXPECT_EQ((*store)->get_run(run_id).value().status, ps::run_status::interrupted);
        for (const auto& p : (*store)->get_phases(run_id).value())
        {
            EXPECT_NE(p.status, ps::phase_status::running) << p.phase_id << " left running";
        }
        EXPECT_EQ((*store)->get_phase(run_id, "design").value().status, ps::phase_status::cancelled)
            << "the in-flight phase is recorded as cancelled";
    }
    const auto completed_before = completed_phases(run_id);
    EXPECT_TRUE(completed_before.count("requirements")) << "the phase before it stays completed";
    resume_completes(run_id, completed_before);
}

INSTANTIATE_TEST_SUITE_P(signals, first_signal, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& param_info) {
                             return std::string(param_info.param == SIGINT ? "sigint" : "sigterm");
                         });

TEST_F(signal_stop, a_second_signal_exits_130_at_once_and_the_run_stays_resumable)
{
    const pid_t pid = start_run_and_wait_for_design_to_stream();
    // Two different signals, so the kernel cannot merge them into one pending signal.
    ASSERT_EQ(::kill(pid, SIGINT), 0);
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    const auto done = ep::testing::wait_child(pid, 30s);
    EXPECT_FALSE(done.timed_out);
    EXPECT_TRUE(done.exited) << "killed by signal " << done.code - 128 << " instead of exiting";
    EXPECT_EQ(done.code, 130) << slurp(err());

    std::string run_id;
    {
        auto store = ps::sqlite_store::open(db);
        ASSERT_TRUE(store) << store.error().to_string();
        EXPECT_TRUE((*store)->integrity_check());
        auto runs = (*store)->list_runs(5).value();
        ASSERT_EQ(runs.size(), 1u);
        run_id = runs.front().id;
        EXPECT_NE(runs.front().status, ps::run_status::completed);
    }
    resume_completes(run_id, completed_phases(run_id));
}

// The failover story: a run under full Claude (mix B) is stopped and resumed with
// `--config D`; the phases it had completed keep their Claude results, every other phase is
// served by OpenAI, and the run now records mix D.
TEST_F(signal_stop, resume_with_another_config_serves_the_remaining_phases_from_the_new_mix)
{
    const pid_t pid = start_run_and_wait_for_design_to_stream({"--config", "B"});
    ASSERT_EQ(::kill(pid, SIGINT), 0);
    const auto done = ep::testing::wait_child(pid, 30s);
    ASSERT_EQ(done.code, 130) << slurp(err());
    const auto events = json_lines(out());
    ASSERT_FALSE(events.empty());
    const std::string run_id = events.front().value("run_id", "");
    for (const auto& e : events)
    {
        if (e.value("type", "") == "phase_started")
        {
            EXPECT_EQ(e.value("provider", ""), "anthropic") << "mix B is full Claude: " << e.dump();
        }
    }

    const auto completed_before = completed_phases(run_id);
    ASSERT_FALSE(completed_before.empty());

    resume_completes(run_id, completed_before, {"--config", "D"});
    int resumed_phases = 0;
    for (const auto& e : json_lines(dir / "resume.out"))
    {
        if (e.value("type", "") == "phase_started")
        {
            ++resumed_phases;
            EXPECT_EQ(e.value("provider", ""), "openai") << "mix D is OpenAI only: " << e.dump();
        }
    }
    EXPECT_EQ(resumed_phases, 6 - static_cast<int>(completed_before.size()));

    auto store = ps::sqlite_store::open(db);
    ASSERT_TRUE(store);
    EXPECT_EQ((*store)->get_run(run_id).value().mix, "D");
    for (const auto& p : (*store)->get_phases(run_id).value())
    {
        EXPECT_EQ(p.provider, completed_before.count(p.phase_id) ? "anthropic" : "openai") << p.phase_id;
    }
}

}  // namespace
