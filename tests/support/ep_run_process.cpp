#include "ep_run_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>

extern char** environ;

namespace ep::testing {

namespace fs = std::filesystem;

fs::path ep_run_binary()
{
    return fs::path(EP_BINARY_DIR) / "engine" / "cli" / "ep-run";
}

pid_t spawn_ep_run(const std::vector<std::string>& args, const fs::path& out, const fs::path& err, const fs::path& cwd)
{
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    const std::string bin = ep_run_binary().string();
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (auto& a : copy)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
    {
        const std::string_view kv(*e);
        const auto name = kv.substr(0, kv.find('='));
        if (name == "EP_OPENAI_API_KEY" || name == "EP_ANTHROPIC_API_KEY" || name == "EP_GEMINI_API_KEY" ||
            name == "EP_DB" || name == "EP_HOME" || name == "EP_EMULATOR_TOKENS_PER_SECOND" ||
            name == "EP_EMULATOR_FIRST_TOKEN_MS")
            continue;
        env_strings.emplace_back(kv);
    }
    env_strings.emplace_back("EP_EMULATOR_TOKENS_PER_SECOND=200");
    env_strings.emplace_back("EP_EMULATOR_FIRST_TOKEN_MS=20");
    std::vector<char*> envp;
    for (auto& e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid == 0)
    {
        if (::chdir(cwd.c_str()) != 0)
            ::_exit(127);
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        // The test runner may have ignored or blocked signals; the child starts with defaults.
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

child_exit wait_child(pid_t pid, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    int status = 0;
    for (;;)
    {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return {false, -1, false};  // not our child (or already reaped)
        if (!timed_out && std::chrono::steady_clock::now() >= deadline)
        {
            ::kill(pid, SIGKILL);
            timed_out = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (WIFEXITED(status))
        return {true, WEXITSTATUS(status), timed_out};
    return {false, 128 + WTERMSIG(status), timed_out};
}

scratch_dir::scratch_dir(const std::string& prefix)
    : path_(fs::temp_directory_path() / (prefix + std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid())))
{
    fs::create_directories(path_);
}

scratch_dir::~scratch_dir()
{
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string slurp(const fs::path& path)
{
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<nlohmann::json> json_lines(const fs::path& file)
{
    std::vector<nlohmann::json> out;
    std::istringstream lines(slurp(file));
    std::string line;
    while (std::getline(lines, line))
    {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded())
            out.push_back(std::move(j));
    }
    return out;
}

std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& events, const std::string& type,
                                    const std::string& phase)
{
    std::vector<nlohmann::json> out;
    for (const auto& e : events)
        if (e.value("type", "") == type && (phase.empty() || e.value("phase", "") == phase))
            out.push_back(e);
    return out;
}

std::string capture(const std::string& command)
{
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r"))
    {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

}  // namespace ep::testing
