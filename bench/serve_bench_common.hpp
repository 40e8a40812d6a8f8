#pragma once
// Shared by the ep-serve benchmarks: start the shipped binaries (ep-emulator, ep-serve) as child
// processes on ephemeral loopback ports, read their ports, measure their memory, stop them.
// Figures are taken on the binaries a user runs, with real sockets between them.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ep::bench {

inline std::filesystem::path binary_dir() { return std::filesystem::path(EP_BINARY_DIR); }

struct child
{
    pid_t pid = -1;
    std::filesystem::path out;
};

/// Starts `path args…` with the environment (minus EP_* variables) plus `extra`; stdout to `out`.
inline child spawn_child(const std::filesystem::path& path, const std::vector<std::string>& args,
                         const std::vector<std::string>& extra, const std::filesystem::path& out)
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
    std::vector<std::string> argv_s = {path.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    child c;
    c.out = out;
    if (posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0)
        c.pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return c;
}

inline std::string slurp(const std::filesystem::path& p)
{
    std::ifstream f(p);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

/// The port in the first stdout line: ep-emulator --print-port prints it alone, ep-serve prints
/// "listening http://HOST:PORT".
inline int wait_for_port(const child& c, std::chrono::seconds timeout = std::chrono::seconds(30))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline)
    {
        const auto text = slurp(c.out);
        if (auto nl = text.find('\n'); nl != std::string::npos)
            return std::atoi(text.substr(text.rfind(':', nl) == std::string::npos ? 0 : text.rfind(':', nl) + 1).c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

inline void stop_child(const child& c)
{
    if (c.pid <= 0)
        return;
    ::kill(c.pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i)
    {
        if (::waitpid(c.pid, &status, WNOHANG) == c.pid)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, &status, 0);
}

/// VmRSS / VmHWM of a process in KiB (0 when unreadable).
inline long proc_kib(pid_t pid, const char* field)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(field, 0) == 0)
            return std::atol(line.c_str() + std::strlen(field) + 1);
    return 0;
}

/// CPU time (user + system) of a process in seconds.
inline double proc_cpu_seconds(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    auto close = stat.rfind(')');
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
        if (i == 14 || i == 15)
            ticks += std::atof(field.c_str());
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline std::string load_average()
{
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

inline double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

}  // namespace ep::bench
