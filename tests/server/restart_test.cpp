// Runs survive an ep-serve restart: a server killed with SIGKILL in the middle of a run leaves
// it `running` under its lease identity; the next ep-serve with the same identity resumes it at
// start, and it completes without sending its completed phases again. Also the process itself:
// SIGTERM stops it cleanly (exit 0, runs recorded interrupted), a non-loopback --listen without
// tokens exits 2.
#include "server_fixture.hpp"

#include "ep_run_process.hpp"

#include <csignal>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace ep::server::test {
namespace {

std::filesystem::path ep_serve_binary() { return std::filesystem::path(EP_BINARY_DIR) / "engine" / "server" / "ep-serve"; }

// Starts ep-serve with `args` (plus the environment, minus provider keys, plus `extra`); its
// stdout and stderr go to files in `dir`.
pid_t spawn_ep_serve(const std::vector<std::string>& args, const std::filesystem::path& dir,
                     const std::vector<std::string>& extra = {})
{
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("EP_", 0) != 0)
            env.emplace_back(*e);
    env.insert(env.end(), extra.begin(), extra.end());
    std::vector<char*> envp;
    for (auto& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_s = {ep_serve_binary().string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const auto out = (dir / "out").string(), err = (dir / "err").string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

// The port from ep-serve's first stdout line "listening http://127.0.0.1:PORT".
std::uint16_t wait_for_port(const std::filesystem::path& dir)
{
    for (int i = 0; i < 500; ++i)
    {
        const auto out = ep::testing::slurp(dir / "out");
        const auto pos = out.find("listening http");
        const auto end = pos == std::string::npos ? pos : out.find('\n', pos);
        if (end != std::string::npos)
            return static_cast<std::uint16_t>(std::stoi(out.substr(out.rfind(':', end) + 1)));
        std::this_thread::sleep_for(20ms);
    }
    return 0;
}

TEST(restart, a_run_interrupted_by_a_crash_is_resumed_by_the_next_server_with_the_same_identity)
{
    ep::testing::scratch_dir dir("ep-serve-restart-");
    emulator::emulator_config ecfg;
    ecfg.time_to_first_token = 20ms;
    ecfg.tokens_per_second = 150;  // the sdlc phases take a while: the kill lands mid-run
    emulator::emulator emu(ecfg);
    emu.start();
    const std::vector<std::string> env = {"EP_OPENAI_BASE_URL=" + emu.base_url() + "/v1", "EP_OPENAI_API_KEY=k",
                                          "EP_ANTHROPIC_BASE_URL=" + emu.base_url(), "EP_ANTHROPIC_API_KEY=k",
                                          "EP_GEMINI_BASE_URL=" + emu.base_url() + "/v1beta", "EP_GEMINI_API_KEY=k"};
    const std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--db", (dir / "runs.db").string(), "--instance",
                                           "serve-test-1"};
    auto pid = spawn_ep_serve(args, dir.path(), env);
    ASSERT_GT(pid, 0);
    auto port = wait_for_port(dir.path());
    ASSERT_NE(port, 0) << ep::testing::slurp(dir / "err");
    auto r = post(port, "/v1/runs", {{"workflow", "sdlc"}, {"inputs", {{"task", "a queue"}}}});
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = r.body_json()["run_id"].get<std::string>();
    // Kill it once the first phase is checkpointed and another is running.
    for (int i = 0; i < 500; ++i)
    {
        auto run = get(port, "/v1/runs/" + id).body_json();
        if (run["phases_completed"].get<int>() >= 1)
            break;
        std::this_thread::sleep_for(20ms);
    }
    ::kill(pid, SIGKILL);
    ep::testing::wait_child(pid);
    const auto requests_before = emu.stats().requests;

    auto pid2 = spawn_ep_serve(args, dir.path(), env);
    auto port2 = wait_for_port(dir.path());
    ASSERT_NE(port2, 0) << ep::testing::slurp(dir / "err");
    json run;
    for (int i = 0; i < 1500; ++i)
    {
        run = get(port2, "/v1/runs/" + id).body_json();
        if (run["status"] == "completed")
            break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(run["status"], "completed") << run.dump() << ep::testing::slurp(dir / "err");
    EXPECT_EQ(run["owner"], nullptr) << "the lease was released at the end";
    EXPECT_NE(ep::testing::slurp(dir / "err").find("resumed run " + id), std::string::npos);
    // The phases completed before the crash were not asked for again: 6 phases in all.
    EXPECT_LE(emu.stats().requests - requests_before, 6u - 1u);
    ::kill(pid2, SIGTERM);
    auto exit = ep::testing::wait_child(pid2, 20s);
    EXPECT_TRUE(exit.exited);
    EXPECT_EQ(exit.code, 0);
}

TEST(restart, sigterm_stops_runs_cleanly_and_bad_configurations_exit_2)
{
    ep::testing::scratch_dir dir("ep-serve-term-");
    auto pid = spawn_ep_serve({"--listen", "127.0.0.1:0", "--db", (dir / "runs.db").string(), "--emulate"}, dir.path(),
                              {});
    auto port = wait_for_port(dir.path());
    ASSERT_NE(port, 0) << ep::testing::slurp(dir / "err");
    auto r = post(port, "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}});
    ASSERT_EQ(r.status, 201u) << r.body;
    std::this_thread::sleep_for(300ms);
    ::kill(pid, SIGTERM);
    auto exit = ep::testing::wait_child(pid, 20s);
    EXPECT_EQ(exit.code, 0) << ep::testing::slurp(dir / "err");

    // The run was recorded interrupted (resumable), not left running.
    ep::testing::scratch_dir dir2("ep-serve-term2-");
    auto pid2 = spawn_ep_serve({"--listen", "127.0.0.1:0", "--db", (dir / "runs.db").string(), "--no-resume"}, dir2.path());
    auto port2 = wait_for_port(dir2.path());
    ASSERT_NE(port2, 0);
    auto run = get(port2, "/v1/runs/" + r.body_json()["run_id"].get<std::string>()).body_json();
    EXPECT_EQ(run["status"], "interrupted") << run.dump();
    ::kill(pid2, SIGTERM);
    ep::testing::wait_child(pid2, 20s);

    ep::testing::scratch_dir dir3("ep-serve-bad-");
    auto bad = spawn_ep_serve({"--listen", "0.0.0.0:0", "--db", (dir3 / "runs.db").string()}, dir3.path());
    auto e = ep::testing::wait_child(bad, 20s);
    EXPECT_EQ(e.code, 2);
    EXPECT_NE(ep::testing::slurp(dir3 / "err").find("without authentication"), std::string::npos);
    auto tokens_ok = spawn_ep_serve({"--listen", "0.0.0.0:0", "--db", (dir3 / "runs.db").string()}, dir3.path(),
                                    {"EP_SERVE_TOKENS=abc,def"});
    EXPECT_NE(wait_for_port(dir3.path()), 0) << "with tokens any address may be listened on";
    ::kill(tokens_ok, SIGTERM);
    ep::testing::wait_child(tokens_ok, 20s);
    auto flag = spawn_ep_serve({"--listen", "127.0.0.1:0", "--bogus"}, dir3.path());
    EXPECT_EQ(ep::testing::wait_child(flag, 20s).code, 2);
}

}  // namespace
}  // namespace ep::server::test
