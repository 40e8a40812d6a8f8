// process_command_runner against real processes: exit status, timeouts that kill a whole tree,
// cancellation, output caps and coalescing, the scrubbed environment, secrets, missing programs,
// cwd confinement, rlimits and (where bubblewrap runs) the sandbox.
#include "workspace_test_util.hpp"

#include "io_fixture.hpp"

#include <ep/engine/workspace/command.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <set>

namespace ep::engine::ws_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class command_fixture : public test::io_fixture
{
protected:
    temp_dir tmp;
    fs::path ws_root = tmp.path() / "ws";
    std::optional<workspace> ws;

    void SetUp() override
    {
        fs::create_directories(ws_root);
        auto opened = workspace::open(ws_root);
        ASSERT_TRUE(opened) << opened.error().message;
        ws.emplace(std::move(*opened));
    }

    command_options options(sandbox_mode mode = sandbox_mode::automatic)
    {
        command_options o;
        o.sandbox = mode;
        o.kill_grace = 300ms;
        o.temp_root = tmp.path();
        return o;
    }

    ws_result<command_result> run_cmd(command_spec spec, command_options o, output_callback cb = {})
    {
        process_command_runner runner(ctx.get_executor(), std::move(o));
        return run(runner.run(spec, *ws, std::move(cb)), 60s);
    }

    static command_spec sh(std::string script)
    {
        command_spec s;
        s.shell = true;
        s.script = std::move(script);
        return s;
    }

    bool bwrap_works()
    {
        process_command_runner runner(ctx.get_executor(), options());
        return run(runner.sandbox()).available;
    }
};

/// Is any live (non-zombie) process running `sleep MARKER`?
bool sleeper_alive(const std::string& marker)
{
    for (const auto& e : fs::directory_iterator("/proc"))
    {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::string cmdline = read_text(e.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find("sleep " + marker) == std::string::npos)
            continue;
        const std::string stat = read_text(e.path() / "stat");
        const auto close = stat.rfind(')');
        if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z')
            return true;
    }
    return false;
}

/// A killed process dies when the kernel next schedules it: give stragglers a moment (this bounds
/// the wait; it does not hide a survivor, which would still be running after it).
bool sleeper_survives(const std::string& marker)
{
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (sleeper_alive(marker))
    {
        if (std::chrono::steady_clock::now() > deadline)
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string unique_marker()
{
    std::mt19937 rng{std::random_device{}()};
    return std::to_string(900 + rng() % 99) + "." + std::to_string(100000 + rng() % 899999);
}

TEST_F(command_fixture, argv_runs_without_a_shell_and_reports_exit_code_and_output)
{
    command_spec s;
    s.argv = {"printf", "%s|", "a b", "$HOME", "*"};
    auto r = run_cmd(s, options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->stdout_text, "a b|$HOME|*|");  // no expansion, no globbing
    EXPECT_TRUE(r->succeeded());
    EXPECT_EQ(r->to_json()["exit_code"], 0);
    EXPECT_EQ(r->to_json()["stdout"], "a b|$HOME|*|");
    EXPECT_GE(r->duration_ms, 0);
}

TEST_F(command_fixture, a_shell_script_runs_under_bin_sh_and_a_failure_is_a_result_not_an_error)
{
    auto r = run_cmd(sh("echo out; echo err >&2; exit 3"), options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 3);
    EXPECT_FALSE(r->succeeded());
    EXPECT_EQ(r->stdout_text, "out\n");
    EXPECT_EQ(r->stderr_text, "err\n");
    EXPECT_NE(r->output.find("out\n"), std::string::npos);
    EXPECT_NE(r->output.find("err\n"), std::string::npos);
    EXPECT_EQ(r->argv, (std::vector<std::string>{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
    EXPECT_EQ(r->describe(), "exit code 3");
}

TEST_F(command_fixture, invalid_specs_are_refused_before_anything_runs)
{
    command_spec string_without_shell;
    string_without_shell.script = "echo hi";
    auto r = run_cmd(string_without_shell, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(command_errc::invalid_spec));
    EXPECT_NE(r.error().message.find("shell: true"), std::string::npos) << r.error().message;

    command_spec both = sh("echo");
    both.argv = {"echo"};
    EXPECT_EQ(run_cmd(both, options()).error().code, make_error_code(command_errc::invalid_spec));
    EXPECT_EQ(run_cmd(command_spec{}, options()).error().code, make_error_code(command_errc::invalid_spec));
}

TEST_F(command_fixture, a_missing_program_is_a_clear_error)
{
    command_spec s;
    s.argv = {"ep-no-such-program-xyz", "--flag"};
    auto r = run_cmd(s, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(command_errc::program_not_found));
    EXPECT_NE(r.error().message.find("`ep-no-such-program-xyz` was not found on PATH"), std::string::npos)
        << r.error().message;

    s.argv = {"./missing.sh"};
    r = run_cmd(s, options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(command_errc::program_not_found));
    EXPECT_NE(r.error().message.find("not an executable file"), std::string::npos) << r.error().message;
}

TEST_F(command_fixture, a_program_in_the_workspace_runs_relative_to_cwd)
{
    write_text(ws_root / "sub" / "hello.sh", "#!/bin/sh\necho \"hello from $(pwd)\"\n");
    fs::permissions(ws_root / "sub" / "hello.sh", fs::perms::owner_all);
    command_spec s;
    s.argv = {"./hello.sh"};
    s.cwd = "sub";
    auto r = run_cmd(s, options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->stdout_text, "hello from " + (ws->root() / "sub").string() + "\n");
}

TEST_F(command_fixture, a_cwd_outside_the_workspace_is_refused)
{
    fs::create_symlink("..", ws_root / "up");
    for (const char* cwd : {"..", "/tmp", "up", "missing"})
    {
        command_spec s = sh("pwd");
        s.cwd = cwd;
        auto r = run_cmd(s, options());
        ASSERT_FALSE(r) << cwd;
        EXPECT_EQ(r.error().code, make_error_code(command_errc::cwd_refused)) << cwd;
        EXPECT_NE(r.error().message.find("cwd"), std::string::npos);
    }
}

TEST_F(command_fixture, the_environment_is_scrubbed_to_path_home_lang_tmpdir_and_additions)
{
    ::setenv("EP_OPENAI_API_KEY", "sk-test-parent-key-1234", 1);
    ::setenv("EP_TEST_PARENT_ONLY", "leak", 1);
    command_spec s;
    s.argv = {"env"};
    s.env = {{"EXTRA", "1"}, {"LANG", "C"}};
    auto r = run_cmd(s, options());
    ::unsetenv("EP_OPENAI_API_KEY");
    ::unsetenv("EP_TEST_PARENT_ONLY");
    ASSERT_TRUE(r) << r.error().message;
    std::set<std::string> names;
    std::istringstream lines(r->stdout_text);
    for (std::string line; std::getline(lines, line);)
        names.insert(line.substr(0, line.find('=')));
    std::set<std::string> expected = {"EXTRA", "HOME", "LANG", "PATH", "TMPDIR"};
    if (r->sandbox == "bwrap")
        expected.insert("PWD");  // bubblewrap's --chdir sets it
    EXPECT_EQ(names, expected) << r->describe() << " " << r->sandbox << "\n" << r->output;
    EXPECT_EQ(r->stdout_text.find("sk-test-parent-key"), std::string::npos);
    EXPECT_NE(r->stdout_text.find("LANG=C\n"), std::string::npos);
    EXPECT_NE(r->stdout_text.find("HOME=" + tmp.path().string() + "/ep-cmd-"), std::string::npos)
        << r->stdout_text;
}

TEST_F(command_fixture, home_and_tmpdir_are_private_writable_and_removed_afterwards)
{
    auto r = run_cmd(sh("echo x > \"$HOME/f\" && echo y > \"$TMPDIR/g\" && echo \"$HOME\""), options());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->exit_code, 0) << r->output;
    const fs::path home = r->stdout_text.substr(0, r->stdout_text.size() - 1);
    EXPECT_FALSE(fs::exists(home)) << "the scratch directory must be removed";
    EXPECT_FALSE(fs::exists(home.parent_path()));
}

TEST_F(command_fixture, key_variables_and_key_values_in_env_are_refused_without_quoting_them)
{
    command_options o = options();
    o.secrets = {"sk-configured-secret-42"};
    struct refused_case
    {
        std::string name, value;
    };
    for (const auto& c : {refused_case{"EP_OPENAI_API_KEY", "anything"}, refused_case{"ep_gemini_api_key", "x"},
                          refused_case{"EP_FUTURE_API_KEY", "x"}, refused_case{"TOKEN", "sk-configured-secret-42"},
                          refused_case{"AUTH", "Bearer sk-configured-secret-42"}, refused_case{"BAD=NAME", "x"},
                          refused_case{"", "x"}})
    {
        command_spec s;
        s.argv = {"true"};
        s.env = {{c.name, c.value}};
        auto r = run_cmd(s, o);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error().code, make_error_code(command_errc::env_refused)) << c.name;
        EXPECT_EQ(r.error().message.find("sk-configured-secret-42"), std::string::npos) << r.error().message;
    }
}

TEST_F(command_fixture, secrets_in_output_are_redacted_even_when_split_across_reads)
{
    command_options o = options();
    o.secrets = {"sk-split-secret-9876"};
    o.coalesce_interval = 10ms;
    std::string delivered;
    auto r = run_cmd(sh("printf 'key=sk-split-'; sleep 0.3; printf 'secret-9876 end\\n'"), o,
                     [&](output_stream, std::string_view t) { delivered += t; });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->stdout_text, "key=[REDACTED] end\n");
    EXPECT_EQ(delivered, "key=[REDACTED] end\n");
}

TEST_F(command_fixture, output_reaches_the_callback_coalesced_while_the_command_runs)
{
    command_options o = options();
    o.coalesce_interval = 50ms;
    std::vector<std::pair<std::string, std::string>> chunks;
    auto r = run_cmd(sh("for i in 1 2 3 4 5 6 7 8 9 10; do echo line$i; done; sleep 0.4; echo late >&2"), o,
                     [&](output_stream s, std::string_view t) { chunks.emplace_back(to_string(s), std::string(t)); });
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_GE(chunks.size(), 2u);
    EXPECT_LT(chunks.size(), 6u) << "ten quick lines should be coalesced";
    EXPECT_EQ(chunks.back(), (std::pair<std::string, std::string>{"stderr", "late\n"}));
    std::string out;
    for (const auto& [stream, text] : chunks)
        if (stream == "stdout")
            out += text;
    EXPECT_EQ(out, r->stdout_text);
}

TEST_F(command_fixture, an_output_flood_is_capped_to_its_tail_with_a_marker)
{
    command_spec s = sh("head -c 3000000 /dev/zero | tr '\\0' 'a'; echo; echo THE-END");
    s.output_cap = 64 * 1024;
    std::uint64_t delivered = 0;
    auto r = run_cmd(s, options(), [&](output_stream, std::string_view t) { delivered += t.size(); });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->output_bytes, 3000000u + 1 + 8);
    EXPECT_EQ(delivered, r->output_bytes);
    EXPECT_LE(r->stdout_text.size(), 64u * 1024 + 64);
    EXPECT_EQ(r->stdout_text.rfind("[… ", 0), 0u) << r->stdout_text.substr(0, 40);
    EXPECT_NE(r->stdout_text.find(std::to_string(3000000 + 9 - 64 * 1024) + " bytes dropped"), std::string::npos)
        << r->stdout_text.substr(0, 60);
    EXPECT_NE(r->stdout_text.find("THE-END\n"), std::string::npos);
}

TEST_F(command_fixture, a_timeout_kills_the_whole_process_tree)
{
    for (auto mode : {sandbox_mode::disabled, sandbox_mode::automatic})
    {
        const std::string marker = unique_marker();
        command_spec s = sh("sleep " + marker + " & sleep " + marker + " & (trap '' TERM; sleep " + marker +
                            ") & echo started; sleep " + marker);
        s.timeout = 2s;  // long enough for the shell to start its children on a loaded machine
        const auto t0 = std::chrono::steady_clock::now();
        auto r = run_cmd(s, options(mode));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_TRUE(r->timed_out);
        EXPECT_FALSE(r->succeeded());
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
        EXPECT_EQ(r->stdout_text, "started\n");
        EXPECT_NE(r->describe().find("timeout"), std::string::npos) << r->describe();
        EXPECT_FALSE(sleeper_survives(marker)) << "a process of the timed-out tree survived (" << r->sandbox << ")";
    }
}

TEST_F(command_fixture, background_jobs_of_a_finished_command_are_killed_with_its_group)
{
    const std::string marker = unique_marker();
    auto r = run_cmd(sh("sleep " + marker + " > /dev/null 2>&1 & echo done"), options(sandbox_mode::disabled));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_FALSE(r->timed_out);
    EXPECT_FALSE(sleeper_survives(marker));
}

TEST_F(command_fixture, an_escaped_process_holding_the_pipe_does_not_hang_the_run)
{
    command_options o = options(sandbox_mode::disabled);
    o.drain_timeout = 300ms;
    const std::string marker = unique_marker();
    const auto t0 = std::chrono::steady_clock::now();
    // setsid: leaves the group, keeps stdout open. (A background job is not a group leader,
    // so setsid execs sleep in the same process: $! is the sleeper's pid.)
    auto r = run_cmd(sh("setsid sleep " + marker + " & echo $!"), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    // Out of the runner's reach (documented); end it here, by its pid, so nothing lingers.
    const pid_t escaped = std::stoi(r->stdout_text);
    ASSERT_GT(escaped, 1);
    ::kill(escaped, SIGKILL);
}

TEST_F(command_fixture, cancellation_kills_the_group_and_returns_a_cancelled_result)
{
    const std::string marker = unique_marker();
    process_command_runner runner(ctx.get_executor(), options());
    asio::cancellation_signal stop;
    std::optional<ws_result<command_result>> outcome;
    asio::co_spawn(ctx, runner.run(sh("sleep " + marker + " & sleep " + marker), *ws),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, ws_result<command_result> r) {
                       ASSERT_FALSE(e);
                       outcome.emplace(std::move(r));
                   }));
    asio::steady_timer t(ctx, 500ms);
    t.async_wait([&](auto) { stop.emit(asio::cancellation_type::terminal); });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!outcome && std::chrono::steady_clock::now() < deadline)
        ctx.run_one_for(50ms);
    ASSERT_TRUE(outcome);
    ASSERT_TRUE(*outcome) << outcome->error().message;
    EXPECT_TRUE((*outcome)->cancelled) << (*outcome)->describe() << " " << (*outcome)->sandbox << " "
                                       << (*outcome)->duration_ms << "ms " << (*outcome)->output;
    EXPECT_FALSE((*outcome)->timed_out);
    EXPECT_FALSE(sleeper_survives(marker));
}

TEST_F(command_fixture, the_child_leads_its_own_session_and_process_group)
{
    command_spec s;
    s.argv = {"python3", "-c", "import os; print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid())"};
    auto r = run_cmd(s, options(sandbox_mode::disabled));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->stdout_text, "True True\n") << r->output;
}

TEST_F(command_fixture, under_the_sandbox_the_command_has_its_own_pid_namespace)
{
    if (!bwrap_works())
        GTEST_SKIP() << "bubblewrap cannot run here; only the sandbox's own assertions are skipped";
    command_spec s;
    s.argv = {"python3", "-c", "import os; print(os.getpid() < 10, os.getppid())"};
    auto r = run_cmd(s, options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sandbox, "bwrap");
    EXPECT_EQ(r->stdout_text, "True 1\n") << "bwrap's init is the parent in a new PID namespace: " << r->output;
}

TEST_F(command_fixture, blocked_and_ignored_signals_of_the_engine_are_not_inherited)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &block, &old);
    auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
    auto r = run_cmd(sh("grep -E '^(SigBlk|SigIgn)' /proc/self/status"), options(sandbox_mode::disabled));
    ::signal(SIGPIPE, old_pipe);
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_NE(r->stdout_text.find("SigBlk:\t0000000000000000"), std::string::npos) << r->stdout_text;
    EXPECT_NE(r->stdout_text.find("SigIgn:\t0000000000000000"), std::string::npos) << r->stdout_text;
}

TEST_F(command_fixture, rlimits_are_applied_in_the_child)
{
    for (auto mode : {sandbox_mode::disabled, sandbox_mode::automatic})
    {
        command_options o = options(mode);
        o.limits.processes = 777;
        o.limits.cpu_seconds = 123;
        o.limits.file_size_bytes = 1024 * 1024;
        o.limits.address_space_bytes = 2ull << 30;
        command_spec s;
        s.argv = {"python3", "-c",
                  "import resource as r\n"
                  "for l in (r.RLIMIT_NPROC, r.RLIMIT_CPU, r.RLIMIT_FSIZE, r.RLIMIT_AS): print(*r.getrlimit(l))"};
        auto r = run_cmd(s, o);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->stdout_text, "777 777\n123 124\n1048576 1048576\n2147483648 2147483648\n")
            << r->sandbox << ": " << r->describe() << " timed_out=" << r->timed_out << " " << r->duration_ms << "ms "
            << r->output;
    }
}

TEST_F(command_fixture, the_file_size_limit_stops_a_runaway_writer)
{
    command_options o = options();
    o.limits.file_size_bytes = 4096;
    auto r = run_cmd(sh("head -c 100000 /dev/zero > big.bin; echo status=$?"), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(fs::file_size(ws_root / "big.bin"), 4096u);
    EXPECT_NE(r->stdout_text.find("status=153"), std::string::npos) << r->output;  // 128 + SIGXFSZ
}

TEST_F(command_fixture, the_cpu_limit_stops_a_busy_loop)
{
    command_options o = options(sandbox_mode::disabled);
    o.limits.cpu_seconds = 1;
    command_spec s = sh("while :; do :; done");
    s.timeout = 60s;
    auto r = run_cmd(s, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->timed_out);
    ASSERT_TRUE(r->signal) << r->describe();
    EXPECT_TRUE(*r->signal == SIGXCPU || *r->signal == SIGKILL) << r->describe();
    EXPECT_NE(r->describe().find("SIGXCPU"), std::string::npos) << r->describe();
}

TEST_F(command_fixture, the_address_space_limit_stops_a_memory_hog)
{
    command_options o = options(sandbox_mode::disabled);
    o.limits.address_space_bytes = 512ull << 20;
    command_spec s;
    s.argv = {"python3", "-c", "x = bytearray(1024 * 1024 * 1024)"};
    auto r = run_cmd(s, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_NE(r->exit_code, 0);
    EXPECT_NE(r->stderr_text.find("MemoryError"), std::string::npos) << r->output;
}

/// A listening socket on 127.0.0.1 (the command tries to connect to it).
struct loopback_listener
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    loopback_listener()
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd, 4);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~loopback_listener() { ::close(fd); }
};

TEST_F(command_fixture, the_sandbox_blocks_the_network_unless_allowed)
{
    if (!bwrap_works())
        GTEST_SKIP() << "bubblewrap cannot run here; only the sandbox's own assertions are skipped";
    loopback_listener l;
    command_spec s;
    s.argv = {"python3", "-c",
              "import socket; socket.create_connection(('127.0.0.1', " + std::to_string(l.port) + "), 2); "
              "print('connected')"};
    auto blocked = run_cmd(s, options());
    ASSERT_TRUE(blocked) << blocked.error().message;
    EXPECT_EQ(blocked->sandbox, "bwrap");
    EXPECT_NE(blocked->exit_code, 0) << blocked->output;
    EXPECT_EQ(blocked->stdout_text.find("connected"), std::string::npos);

    s.network = true;
    auto allowed = run_cmd(s, options());
    ASSERT_TRUE(allowed) << allowed.error().message;
    EXPECT_EQ(allowed->exit_code, 0) << allowed->describe() << " timed_out=" << allowed->timed_out << " "
                                     << allowed->duration_ms << "ms " << allowed->output;
    EXPECT_EQ(allowed->stdout_text, "connected\n");
}

TEST_F(command_fixture, the_sandbox_makes_the_system_read_only_and_tmp_private)
{
    if (!bwrap_works())
        GTEST_SKIP() << "bubblewrap cannot run here; only the sandbox's own assertions are skipped";
    // Outside /tmp (the sandbox's /tmp is a private tmpfs, where writes succeed and vanish).
    const fs::path outside = "/var/tmp/ep-sandbox-probe-" + unique_marker();
    const std::string host_tmp_file = "/tmp/ep-sandbox-probe-" + unique_marker();
    auto r = run_cmd(sh("echo in > inside.txt; echo x > " + outside.string() + " 2>/dev/null; echo a=$?; "
                        "echo y > " + host_tmp_file + "; echo b=$?; mount -o remount,rw / 2>/dev/null; echo c=$?"),
                     options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sandbox, "bwrap");
    EXPECT_EQ(read_text(ws_root / "inside.txt"), "in\n");
    EXPECT_FALSE(fs::exists(outside)) << "wrote outside the workspace";
    std::error_code ignored;
    fs::remove(outside, ignored);
    EXPECT_EQ(r->stdout_text.find("a=0"), std::string::npos) << "the write outside succeeded: " << r->stdout_text;
    EXPECT_NE(r->stdout_text.find("b=0"), std::string::npos) << "the private /tmp is writable: " << r->stdout_text;
    EXPECT_FALSE(fs::exists(host_tmp_file)) << "/tmp is not private";
    EXPECT_EQ(r->stdout_text.find("c=0"), std::string::npos) << "the root could be remounted: " << r->stdout_text;
}

TEST_F(command_fixture, without_a_sandbox_the_result_says_so_and_required_refuses)
{
    auto r = run_cmd(sh("true"), options(sandbox_mode::disabled));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sandbox, "none (disabled)");

    command_options o = options(sandbox_mode::required);
    o.bwrap = tmp.path() / "no-bwrap-here";
    auto refused = run_cmd(sh("true"), o);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, make_error_code(command_errc::sandbox_unavailable));

    command_options automatic = options();
    write_text(tmp.path() / "fake-bwrap", "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n");
    fs::permissions(tmp.path() / "fake-bwrap", fs::perms::owner_all);
    automatic.bwrap = tmp.path() / "fake-bwrap";
    auto fallback = run_cmd(sh("echo ran"), automatic);
    ASSERT_TRUE(fallback) << fallback.error().message;
    EXPECT_EQ(fallback->stdout_text, "ran\n");
    EXPECT_EQ(fallback->sandbox, "none (bwrap cannot run here: bwrap: No permissions to create new namespace)");
}

}  // namespace
}  // namespace ep::engine::ws_test
