// The shipped implement → test → fix loop through the real `ep-run --emulate` (HTTP/SSE to the
// emulator on loopback, a real SQLite store, real python3 and git): files on disk, a failing then
// passing test run, commits with trailers on ep/RUN_ID, an approval, a JUnit report. And kill -9
// during a command phase, then --resume: nothing that completed runs again, and the workspace is
// restored to the last completed phase's commit before the command runs again.
#include "ep_run_process.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace ps = ep::persistence;

using ep::testing::capture;
using ep::testing::ep_run_binary;
using ep::testing::json_lines;
using ep::testing::of_type;
using ep::testing::slurp;
using ep::testing::spawn_ep_run;
using ep::testing::wait_child;

bool tools_present()
{
    return std::system("command -v python3 >/dev/null 2>&1 && command -v git >/dev/null 2>&1") == 0;
}

TEST(implement_test_fix, shipped_workflow_runs_green_with_files_failing_then_passing_tests_commits_and_approval)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    if (!tools_present())
        GTEST_SKIP() << "python3 and git are needed (scripts/setup.sh installs them)";
    const ep::testing::scratch_dir scratch("ep-itf-");
    const fs::path& dir = scratch.path();
    const auto workflow = (fs::path(EP_SOURCE_DIR) / "workflows" / "implement-test-fix.yaml").string();
    const auto db = (dir / "runs.db").string();
    const auto junit = (dir / "report.xml").string();
    // No --workspace: the default ./.ep/workspaces/RUN_ID under the working directory.
    auto pid = spawn_ep_run({workflow, "--emulate", "--json", "--db", db, "--report", "junit=" + junit},
                            dir / "run.out", dir / "run.err", dir);
    const auto ended = wait_child(pid);
    ASSERT_EQ(ended.code, 0) << slurp(dir / "run.err");
    const auto events = json_lines(dir / "run.out");
    ASSERT_FALSE(events.empty());
    const std::string run_id = events.front().value("run_id", "");
    const fs::path ws = dir / ".ep" / "workspaces" / run_id;

    // Files on disk: the revised module and its tests.
    ASSERT_TRUE(fs::exists(ws / "wordstats.py")) << ws;
    EXPECT_NE(slurp(ws / "wordstats.py").find("def words(text)"), std::string::npos);
    EXPECT_NE(slurp(ws / "test_wordstats.py").find("test_negative_n_is_refused"), std::string::npos);
    EXPECT_EQ(of_type(events, "files_written", "implement").size(), 2u);

    // The test command: failed on pass 1, passed on pass 2.
    const auto completed = of_type(events, "command_completed", "test");
    ASSERT_EQ(completed.size(), 2u);
    EXPECT_NE(completed[0].value("exit_code", 0), 0);
    EXPECT_EQ(completed[1].value("exit_code", -1), 0);
    EXPECT_EQ(of_type(events, "command_started", "test").size(), 2u);
    std::string test_output;
    for (const auto& e : of_type(events, "command_output", "test"))
        test_output += e.value("text", "");
    EXPECT_NE(test_output.find("FAILED (failures=1)"), std::string::npos) << test_output;
    EXPECT_NE(test_output.find("Ran 5 tests"), std::string::npos) << test_output;

    // The review: changes requested, then approved.
    const auto reviews = of_type(events, "phase_completed", "review");
    ASSERT_EQ(reviews.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(reviews[0].value("output", "{}")).value("verdict", ""), "request_changes");
    EXPECT_EQ(nlohmann::json::parse(reviews[1].value("output", "{}")).value("verdict", ""), "approve");
    EXPECT_EQ(of_type(events, "phase_completed", "summary").size(), 1u);

    // Git: the run's branch, one commit per implement pass, trailers naming run, phase, iteration.
    const std::string git = "git -C '" + ws.string() + "' ";
    EXPECT_EQ(capture(git + "rev-parse --abbrev-ref HEAD"), "ep/" + run_id + "\n");
    const auto log = capture(git + "log --format='%s|%(trailers:key=EP-Run,valueonly,separator=)|"
                                   "%(trailers:key=EP-Phase,valueonly,separator=)|"
                                   "%(trailers:key=EP-Iteration,valueonly,separator=)|"
                                   "%(trailers:key=EP-Provider,valueonly,separator=)' ep/" + run_id);
    EXPECT_NE(log.find("|" + run_id + "|implement|2|"), std::string::npos) << log;
    EXPECT_NE(log.find("|" + run_id + "|implement|1|"), std::string::npos) << log;
    EXPECT_EQ(log.find("|test|"), std::string::npos) << "the test command changes no file: " << log;
    EXPECT_EQ(of_type(events, "workspace_committed").size(), 2u);
    EXPECT_EQ(capture(git + "status --porcelain"), "");

    // The JUnit report: one case per instance, the failing test run reported as passed (allowed)
    // with its exit code.
    const auto xml = slurp(junit);
    EXPECT_NE(xml.find("<testsuite"), std::string::npos) << xml;
    EXPECT_NE(xml.find("name=\"test #2\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("name=\"exit_code\" value=\"1\""), std::string::npos) << xml;
}

// A workflow whose command appends to a file before sleeping: killed in the sleep, the resume
// must see the file as the last completed phase left it (restored), then run the command once.
const char* crash_workflow = R"(name: crash-in-command
git: true
phases:
  write:
    persona: code_writer
    files: true
    prompt: "Write the Python module and its unittest tests for: word counts"
  slow:
    needs: [write]
    run: "echo ran >> count.txt; sleep 4"
    shell: true
  after:
    persona: reviewer
    needs: [slow]
    prompt: "Review: {{ phases.slow.output }}"
)";

TEST(implement_test_fix, kill_9_during_a_command_phase_then_resume_repeats_nothing_that_completed)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    if (!tools_present())
        GTEST_SKIP() << "python3 and git are needed";
    const ep::testing::scratch_dir scratch("ep-itf-crash-");
    const fs::path& dir = scratch.path();
    std::ofstream(dir / "crash.yaml") << crash_workflow;
    const auto db = (dir / "runs.db").string();
    const auto ws = dir / "ws";
    auto pid = spawn_ep_run({(dir / "crash.yaml").string(), "--emulate", "--json", "--db", db, "--workspace",
                             ws.string()},
                            dir / "run.out", dir / "run.err", dir);
    // Wait for the command to start (and write its line), then kill ep-run.
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        started = !of_type(json_lines(dir / "run.out"), "command_started", "slow").empty() &&
                  fs::exists(ws / "count.txt");
    }
    ASSERT_TRUE(started) << slurp(dir / "run.err");
    ::kill(pid, SIGKILL);
    wait_child(pid);
    const std::string run_id = json_lines(dir / "run.out").front().value("run_id", "");
    {
        auto store = ps::sqlite_store::open(db);
        ASSERT_TRUE(store);
        auto phases = (*store)->get_phases(run_id).value();
        bool write_done = false, slow_done = false;
        for (const auto& p : phases)
        {
            write_done = write_done || (p.phase_id == "write" && p.status == ps::phase_status::completed);
            slow_done = slow_done || (p.phase_id == "slow" && p.status == ps::phase_status::completed);
        }
        ASSERT_TRUE(write_done);
        ASSERT_FALSE(slow_done);
    }
    auto rpid = spawn_ep_run({"--resume", run_id, "--emulate", "--json", "--db", db}, dir / "resume.out",
                             dir / "resume.err", dir);
    ASSERT_EQ(wait_child(rpid).code, 0) << slurp(dir / "resume.err");
    const auto events = json_lines(dir / "resume.out");
    EXPECT_TRUE(of_type(events, "phase_started", "write").empty()) << "the completed phase was sent again";
    EXPECT_TRUE(of_type(events, "files_written", "write").empty());
    EXPECT_EQ(of_type(events, "command_started", "slow").size(), 1u);
    // Restored to the commit of `write` (count.txt was untracked there), then the command ran once.
    EXPECT_EQ(slurp(ws / "count.txt"), "ran\n");
    EXPECT_TRUE(fs::exists(ws / "wordstats.py"));
    const auto log = capture("git -C '" + ws.string() + "' log --format=%s ep/" + run_id);
    EXPECT_NE(log.find("slow"), std::string::npos) << log;
    EXPECT_NE(log.find("write"), std::string::npos) << log;
}

// The runs a store holds (none when there is no store file).
std::size_t stored_runs(const std::string& db)
{
    if (!fs::exists(db))
        return 0;
    auto store = ps::sqlite_store::open(db);
    return store ? (*store)->list_runs(100).value().size() : 0;
}

// `--workspace .` on a checkout with uncommitted changes: refused as bad input (exit 2) before
// anything is written — no run in the store, nothing in the checkout — unless --allow-dirty.
TEST(implement_test_fix, a_dirty_checkout_is_refused_unless_allow_dirty)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin) || !tools_present())
        GTEST_SKIP() << "needs ep-run, python3 and git";
    const ep::testing::scratch_dir scratch("ep-dirty-");
    const fs::path& dir = scratch.path();
    const fs::path repo = dir / "repo";
    fs::create_directories(repo);
    const std::string git = "git -C '" + repo.string() + "' -c user.name=t -c user.email=t@t ";
    ASSERT_EQ(std::system((git + "init -q && echo one > '" + (repo / "notes.txt").string() + "' && " + git +
                           "add notes.txt && " + git + "commit -qm base").c_str()),
              0);
    std::ofstream(repo / "notes.txt") << "uncommitted\n";
    // No `git: true` in the workflow: --git turns git on.
    std::ofstream(dir / "w.yaml") << "name: w\nphases:\n  t: {run: [touch, made.txt]}\n";
    const auto db = (dir / "runs.db").string();
    auto pid = spawn_ep_run({(dir / "w.yaml").string(), "--emulate", "--db", db, "--workspace", ".", "--git"},
                            dir / "run.out", dir / "run.err", repo);
    EXPECT_EQ(wait_child(pid).code, 2) << slurp(dir / "run.err");
    EXPECT_NE(slurp(dir / "run.err").find("uncommitted changes (notes.txt)"), std::string::npos)
        << slurp(dir / "run.err");
    EXPECT_EQ(stored_runs(db), 0u) << "a refused run is not stored";
    EXPECT_EQ(slurp(dir / "run.out"), "") << "no run_started";
    EXPECT_FALSE(fs::exists(repo / "made.txt"));
    EXPECT_EQ(slurp(repo / "notes.txt"), "uncommitted\n");
    EXPECT_EQ(capture(git + "branch --list 'ep/*'"), "") << "no run branch";

    pid = spawn_ep_run(
        {(dir / "w.yaml").string(), "--emulate", "--db", db, "--workspace", ".", "--git", "--allow-dirty"},
                       dir / "run2.out", dir / "run2.err", repo);
    EXPECT_EQ(wait_child(pid).code, 0) << slurp(dir / "run2.err");
    EXPECT_TRUE(fs::exists(repo / "made.txt"));
    EXPECT_NE(capture(git + "log --format=%s --all").find("ep: t"), std::string::npos) << "--git made no commit";
}

// A directory that is not a repository yet but holds files: `git init` would make every file an
// uncommitted change, so it is refused the same way, before `.git` is created.
TEST(implement_test_fix, a_directory_with_files_and_no_repository_is_refused_before_git_init)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin) || !tools_present())
        GTEST_SKIP() << "needs ep-run and git";
    const ep::testing::scratch_dir scratch("ep-dirty-norepo-");
    const fs::path& dir = scratch.path();
    const fs::path ws = dir / "ws";
    fs::create_directories(ws / "src");
    std::ofstream(ws / "src" / "main.c") << "int main(void) { return 0; }\n";
    std::ofstream(dir / "w.yaml") << "name: w\ngit: true\nphases:\n  t: {run: [touch, made.txt]}\n";
    const auto db = (dir / "runs.db").string();
    auto pid = spawn_ep_run({(dir / "w.yaml").string(), "--emulate", "--db", db, "--workspace", ws.string()},
                            dir / "run.out", dir / "run.err", dir);
    EXPECT_EQ(wait_child(pid).code, 2) << slurp(dir / "run.err");
    EXPECT_NE(slurp(dir / "run.err").find("src/main.c"), std::string::npos) << slurp(dir / "run.err");
    EXPECT_EQ(stored_runs(db), 0u);
    EXPECT_FALSE(fs::exists(ws / ".git"));
    EXPECT_FALSE(fs::exists(ws / "made.txt"));
}

// `gate:` after a command phase: outside a loop a failed gate fails the phase; in a `repeat` body
// it makes the loop go round again even though `until` holds.
const char* gate_workflow = R"(name: gates
phases:
  check:
    run: "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; printf 'Ran 4 tests in 0.1s\n\n'; if [ $n -ge 2 ]; then echo OK; else echo 'FAILED (failures=1)'; fi"
    shell: true
    allow_failure: true
    gate: {min_pass_rate: 1}
    REPEAT
)";

TEST(implement_test_fix, a_failed_gate_fails_the_phase_or_feeds_the_loop)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    for (const bool in_loop : {false, true})
    {
        SCOPED_TRACE(in_loop ? "in a loop" : "outside loops");
        const ep::testing::scratch_dir scratch("ep-gate-");
        const fs::path& dir = scratch.path();
        std::string yaml = gate_workflow;
        yaml.replace(yaml.find("REPEAT"), 6, in_loop ? "repeat: {from: check, until: 'true', max_iterations: 3}" : "");
        std::ofstream(dir / "g.yaml") << yaml;
        auto pid = spawn_ep_run({(dir / "g.yaml").string(), "--emulate", "--json", "--db", (dir / "runs.db").string(),
                                 "--workspace", (dir / "ws").string()},
                                dir / "run.out", dir / "run.err", dir);
        const int code = wait_child(pid).code;
        const auto events = json_lines(dir / "run.out");
        const auto gates = of_type(events, "gate_evaluated", "check");
        if (!in_loop)
        {
            EXPECT_EQ(code, 1);
            ASSERT_EQ(gates.size(), 1u);
            EXPECT_FALSE(gates[0]["gate"].value("passed", true));
            const auto failed = of_type(events, "phase_failed", "check");
            ASSERT_EQ(failed.size(), 1u);
            EXPECT_NE(failed[0].value("error", "").find("pass rate"), std::string::npos) << failed[0].dump();
        }
        else
        {
            EXPECT_EQ(code, 0) << slurp(dir / "run.err");
            ASSERT_EQ(gates.size(), 2u);
            EXPECT_FALSE(gates[0]["gate"].value("passed", true));
            EXPECT_TRUE(gates[1]["gate"].value("passed", false));
        }
    }
}

// Engine tools through each provider's native tool calling (the emulator speaks all three wire
// formats): the model calls list_files, the engine runs it in the workspace, the result goes
// back, the model answers.
const char* tools_workflow = R"(name: tools
phases:
  seed:
    run: "mkdir -p src && echo 'print(1)' > src/main.py"
    shell: true
  look:
    needs: [seed]
    persona: PERSONA
    prompt: "List the files of the workspace, then say what you found."
    tools: [list_files]
    max_tool_rounds: 3
)";

struct tools_case
{
    const char* mix;
    const char* persona;
    const char* provider;
};

class engine_tools : public ::testing::TestWithParam<tools_case>
{
};

TEST_P(engine_tools, a_tool_call_is_executed_in_the_workspace_and_its_result_sent_back)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    const auto c = GetParam();
    const ep::testing::scratch_dir scratch("ep-tools-");
    const fs::path& dir = scratch.path();
    std::string yaml = tools_workflow;
    yaml.replace(yaml.find("PERSONA"), 7, c.persona);
    std::ofstream(dir / "tools.yaml") << yaml;
    auto pid = spawn_ep_run({(dir / "tools.yaml").string(), "--emulate", "--json", "--config", c.mix, "--db",
                             (dir / "runs.db").string(), "--workspace", (dir / "ws").string()},
                            dir / "run.out", dir / "run.err", dir);
    ASSERT_EQ(wait_child(pid).code, 0) << slurp(dir / "run.err");
    const auto events = json_lines(dir / "run.out");
    const auto calls = of_type(events, "tool_call", "look");
    const auto results = of_type(events, "tool_result", "look");
    ASSERT_EQ(calls.size(), 1u);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(calls[0].value("name", ""), "list_files");
    EXPECT_EQ(results[0].value("id", ""), calls[0].value("id", "x"));
    EXPECT_FALSE(results[0].value("is_error", true)) << results[0].dump();
    EXPECT_NE(results[0].value("content", "").find("src/main.py"), std::string::npos) << results[0].dump();
    const auto done = of_type(events, "phase_completed", "look");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].value("provider", ""), c.provider);
    // The model's second answer reads the tool's result.
    EXPECT_NE(done[0].value("output", "").find("The tool returned"), std::string::npos) << done[0].dump();
}

// kill -9 after a tool round was stored and before the phase ended: the resume sends the stored
// round back to the model and never runs that tool call again.
const char* tool_crash_workflow = R"(name: tool-crash
test_command:
  run: "echo ran >> ran.txt"
  shell: true
phases:
  fix:
    persona: code_writer
    prompt: "Run the tests, then report."
    tools: [run_tests]
)";

TEST(engine_tools_resume, a_completed_tool_call_is_not_run_again_after_kill_9)
{
    const auto bin = ep_run_binary();
    if (!fs::exists(bin))
        GTEST_SKIP() << bin << " is not built";
    int checked = 0;
    for (int attempt = 0; attempt < 8 && checked == 0; ++attempt)
    {
        const ep::testing::scratch_dir scratch("ep-tool-crash-");
        const fs::path& dir = scratch.path();
        std::ofstream(dir / "t.yaml") << tool_crash_workflow;
        const auto db = (dir / "runs.db").string();
        auto pid = spawn_ep_run({(dir / "t.yaml").string(), "--emulate", "--json", "--db", db, "--workspace",
                                 (dir / "ws").string()},
                                dir / "run.out", dir / "run.err", dir);
        for (int i = 0; i < 2000 && of_type(json_lines(dir / "run.out"), "tool_result").empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        // The round is stored just after its tool_result event; the paced answer that follows
        // takes a few hundred milliseconds.
        std::this_thread::sleep_for(std::chrono::milliseconds(40 + 20 * attempt));
        ::kill(pid, SIGKILL);
        wait_child(pid);
        const auto first = json_lines(dir / "run.out");
        if (first.empty())
            continue;
        const std::string run_id = first.front().value("run_id", "");
        bool round_stored = false, completed = false;
        {
            auto store = ps::sqlite_store::open(db);
            ASSERT_TRUE(store);
            for (const auto& e : (*store)->get_events(run_id).value())
                round_stored = round_stored || e.type == "tool_round";
            for (const auto& p : (*store)->get_phases(run_id).value())
                completed = completed || p.status == ps::phase_status::completed;
        }
        if (!round_stored || completed)
            continue;  // killed before the round was stored, or too late: try again
        auto rpid = spawn_ep_run({"--resume", run_id, "--emulate", "--json", "--db", db}, dir / "resume.out",
                                 dir / "resume.err", dir);
        ASSERT_EQ(wait_child(rpid).code, 0) << slurp(dir / "resume.err");
        const auto events = json_lines(dir / "resume.out");
        EXPECT_TRUE(of_type(events, "tool_call").empty()) << "a stored tool call was made again";
        EXPECT_EQ(of_type(events, "phase_completed", "fix").size(), 1u);
        EXPECT_EQ(slurp(dir / "ws" / "ran.txt"), "ran\n");
        ++checked;
    }
    EXPECT_EQ(checked, 1) << "no kill landed between the stored round and the phase's end";
}

INSTANTIATE_TEST_SUITE_P(providers, engine_tools,
                         ::testing::Values(tools_case{"D", "code_writer", "openai"},
                                           tools_case{"A", "code_writer", "anthropic"},
                                           tools_case{"C", "documentation_writer", "gemini"}),
                         [](const ::testing::TestParamInfo<tools_case>& i) { return std::string(i.param.provider); });

}  // namespace
