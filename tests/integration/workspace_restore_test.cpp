// A git workspace across runs of the real `ep-run --emulate`: a run fails mid-way, the workspace
// is dirtied by hand, and `--resume` then `--fork` put it back to the commit of the last
// completed phase before anything runs again; a resume or fork that names another
// `--workspace` than the run's recorded one is refused (exit 2) without touching anything.
#include "ep_run_process.hpp"

#include <ep/persistence/sqlite_store.hpp>

#include <gtest/gtest.h>

#include <fstream>

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

// Each phase prints what it finds (so the test sees the tree it ran on) and writes one file;
// `three` fails until the test creates .ep/go (under .ep/: never committed, never cleaned).
const char* restore_workflow = R"(name: restore
git: true
phases:
  one:
    run: "echo one > a.txt"
    shell: true
  two:
    needs: [one]
    run: "cat a.txt; ls; echo two > b.txt"
    shell: true
  three:
    needs: [two]
    run: "cat a.txt; ls; if [ -f .ep/go ]; then echo three > c.txt; else exit 3; fi"
    shell: true
)";

class workspace_restore : public ::testing::Test
{
protected:
    void SetUp() override
    {
        if (!fs::exists(ep_run_binary()) || std::system("command -v git >/dev/null 2>&1") != 0)
            GTEST_SKIP() << "needs ep-run and git";
        std::ofstream(dir() / "r.yaml") << restore_workflow;
    }

    const fs::path& dir() const { return scratch_.path(); }
    fs::path ws() const { return dir() / "ws"; }
    std::string db() const { return (dir() / "runs.db").string(); }

    // ep-run with `args` (and the store, the emulator, --json) in the scratch directory.
    int ep_run(std::vector<std::string> args, const std::string& name)
    {
        for (const char* a : {"--emulate", "--json", "--db"})
            args.push_back(a);
        args.push_back(db());
        const auto pid = spawn_ep_run(args, dir() / (name + ".out"), dir() / (name + ".err"), dir());
        return wait_child(pid).code;
    }
    std::vector<nlohmann::json> events(const std::string& name) const { return json_lines(dir() / (name + ".out")); }
    std::string err(const std::string& name) const { return slurp(dir() / (name + ".err")); }

    // The text a command phase printed in the run `name`.
    std::string printed(const std::string& name, const std::string& phase) const
    {
        std::string text;
        for (const auto& e : of_type(events(name), "command_output", phase))
            text += e.value("text", "");
        return text;
    }

    std::vector<ps::run_record> runs() const
    {
        auto store = ps::sqlite_store::open(db());
        return store ? (*store)->list_runs(100).value() : std::vector<ps::run_record>{};
    }

    std::string git(const std::string& args) const { return capture("git -C '" + ws().string() + "' " + args); }

    void write(const std::string& rel, const std::string& text) const
    {
        fs::create_directories((ws() / rel).parent_path());
        std::ofstream(ws() / rel) << text;
    }

    // A failed first run: `one` and `two` committed, `three` failed. Its id.
    std::string failed_run()
    {
        EXPECT_EQ(ep_run({(dir() / "r.yaml").string(), "--workspace", ws().string()}, "run"), 1) << err("run");
        const auto evs = events("run");
        EXPECT_FALSE(evs.empty());
        return evs.empty() ? std::string() : evs.front().value("run_id", "");
    }

    ep::testing::scratch_dir scratch_{"ep-ws-restore-"};
};

TEST_F(workspace_restore, resume_restores_the_last_completed_phase_commit_before_running_again)
{
    const auto run_id = failed_run();
    ASSERT_FALSE(run_id.empty());
    ASSERT_EQ(slurp(ws() / "b.txt"), "two\n");
    // Dirty it: a committed file changed, another removed, an untracked one added.
    write("a.txt", "tampered\n");
    fs::remove(ws() / "b.txt");
    write("junk.txt", "junk\n");
    write(".ep/go", "");

    // Named with a different spelling (relative to the working directory): the same workspace.
    ASSERT_EQ(ep_run({"--resume", run_id, "--workspace", "ws"}, "resume"), 0) << err("resume");
    const auto three = printed("resume", "three");
    EXPECT_NE(three.find("one\n"), std::string::npos) << "a.txt was not restored before `three` ran: " << three;
    EXPECT_NE(three.find("b.txt"), std::string::npos) << three;
    EXPECT_EQ(three.find("junk.txt"), std::string::npos) << three;
    EXPECT_TRUE(of_type(events("resume"), "command_started", "one").empty()) << "a completed phase ran again";
    EXPECT_EQ(slurp(ws() / "a.txt"), "one\n");
    EXPECT_EQ(slurp(ws() / "b.txt"), "two\n");
    EXPECT_EQ(slurp(ws() / "c.txt"), "three\n");
    EXPECT_FALSE(fs::exists(ws() / "junk.txt"));
    EXPECT_TRUE(fs::exists(ws() / ".ep" / "go")) << ".ep/ is never cleaned";
    EXPECT_EQ(git("log --format=%s ep/" + run_id), "ep: three\nep: two\nep: one\n");
    EXPECT_EQ(git("status --porcelain -- . ':(exclude).ep'"), "") << "all committed (.ep/ is EP's, never committed)";
}

TEST_F(workspace_restore, fork_restores_the_parents_commit_before_its_from_phase)
{
    const auto run_id = failed_run();
    ASSERT_FALSE(run_id.empty());
    write(".ep/go", "");
    ASSERT_EQ(ep_run({"--resume", run_id}, "resume"), 0) << err("resume");
    // Dirty it again, a file of a phase the fork runs again included.
    write("a.txt", "tampered\n");
    write("b.txt", "tampered too\n");
    write("junk.txt", "junk\n");

    ASSERT_EQ(ep_run({"--fork", run_id, "--from", "two"}, "fork"), 0) << err("fork");
    const auto fork_events = events("fork");
    ASSERT_FALSE(fork_events.empty());
    const auto fork_id = fork_events.front().value("run_id", "");
    ASSERT_NE(fork_id, run_id);
    // `two` ran on the tree as `one` left it: a.txt restored, nothing of two, three or by hand.
    const auto two = printed("fork", "two");
    EXPECT_EQ(two, "one\na.txt\n") << two;
    EXPECT_TRUE(of_type(fork_events, "command_started", "one").empty()) << "`one` is copied, not run";
    EXPECT_EQ(slurp(ws() / "a.txt"), "one\n");
    EXPECT_EQ(slurp(ws() / "b.txt"), "two\n");
    EXPECT_EQ(slurp(ws() / "c.txt"), "three\n");
    EXPECT_FALSE(fs::exists(ws() / "junk.txt"));
    EXPECT_EQ(git("rev-parse --abbrev-ref HEAD"), "ep/" + fork_id + "\n");
    EXPECT_EQ(git("log --format=%s ep/" + fork_id), "ep: three\nep: two\nep: one\n");
    EXPECT_EQ(git("log -1 '--format=%(trailers:key=EP-Run,valueonly,separator=)' ep/" + fork_id), fork_id + "\n");
    EXPECT_EQ(git("log --format=%s ep/" + run_id), "ep: three\nep: two\nep: one\n") << "the parent's branch stays";
}

TEST_F(workspace_restore, another_workspace_on_resume_or_fork_is_refused_and_nothing_changes)
{
    const auto run_id = failed_run();
    ASSERT_FALSE(run_id.empty());
    write("a.txt", "tampered\n");
    const fs::path other = dir() / "other";

    EXPECT_EQ(ep_run({"--resume", run_id, "--workspace", other.string()}, "resume"), 2) << err("resume");
    EXPECT_NE(err("resume").find("the run's workspace is " + fs::canonical(ws()).string()), std::string::npos)
        << err("resume");
    EXPECT_TRUE(events("resume").empty()) << "nothing ran";
    EXPECT_EQ(slurp(ws() / "a.txt"), "tampered\n") << "the workspace was not touched";
    EXPECT_FALSE(fs::exists(other));
    auto stored = runs();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].status, ps::run_status::failed) << "the run was not taken over";

    EXPECT_EQ(ep_run({"--fork", run_id, "--from", "two", "--workspace", other.string()}, "fork"), 2) << err("fork");
    EXPECT_NE(err("fork").find("the run's workspace is"), std::string::npos) << err("fork");
    EXPECT_EQ(runs().size(), 1u) << "no fork was stored";
    EXPECT_FALSE(fs::exists(other));
    EXPECT_EQ(slurp(ws() / "a.txt"), "tampered\n");
}

}  // namespace
