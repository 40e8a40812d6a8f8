// Launching and ending a command's process (see child_process.hpp).
#include "workspace/child_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ep::engine::detail {

namespace bp = boost::process::v2;
using boost::system::error_code;

namespace {

/// Runs in the child between fork and exec, so only async-signal-safe calls.
struct child_setup
{
    resource_limits limits;

    template <class Launcher, class Path>
    error_code on_exec_setup(Launcher&, const Path&, const char* const*) const
    {
        // A session (and process group) of its own: the whole tree can be signalled at once,
        // and it has no controlling terminal to read from or to receive ^C from.
        if (::setsid() < 0)
            return error_code(errno, boost::system::system_category());
        // The engine blocks SIGINT/SIGTERM on its threads and may ignore SIGPIPE; exec keeps
        // both the mask and ignored dispositions, and a child must start with neither.
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig)
            if (sig != SIGKILL && sig != SIGSTOP)
                ::sigaction(sig, &dfl, nullptr);
        auto set = [](int resource, const std::optional<std::uint64_t>& value, rlim_t hard_extra = 0) {
            if (!value)
                return 0;
            const rlimit r{static_cast<rlim_t>(*value), static_cast<rlim_t>(*value) + hard_extra};
            return ::setrlimit(resource, &r);
        };
        // CPU: the soft limit sends SIGXCPU, the hard one SIGKILL; one second apart, so the
        // command ends with the signal that says why.
        if (set(RLIMIT_CPU, limits.cpu_seconds, 1) != 0 || set(RLIMIT_AS, limits.address_space_bytes) != 0 ||
            set(RLIMIT_FSIZE, limits.file_size_bytes) != 0 || set(RLIMIT_NPROC, limits.processes) != 0)
            return error_code(errno, boost::system::system_category());
        return {};
    }
};

bool is_executable_file(const std::filesystem::path& p)
{
    struct stat st{};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::filesystem::path find_program(const std::string& program, const std::string& path,
                                   const std::filesystem::path& cwd)
{
    if (program.empty())
        return {};
    if (program.find('/') != std::string::npos)
    {
        std::filesystem::path p = program;
        if (p.is_relative())
            p = cwd / p;
        return is_executable_file(p) ? p : std::filesystem::path();
    }
    std::size_t start = 0;
    while (start <= path.size())
    {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::string dir = path.substr(start, end - start);
        start = end + 1;
        if (dir.empty() || dir.front() != '/')  // relative PATH entries would search the workspace
            continue;
        const auto candidate = std::filesystem::path(dir) / program;
        if (is_executable_file(candidate))
            return candidate;
    }
    return {};
}

ws_result<void> launch(child_process& child, const launch_request& request)
{
    error_code ec;
    auto ex = child.out.get_executor();
    bp::process proc = bp::default_process_launcher()(
        ex, ec, boost::filesystem::path(request.executable.string()), request.args,
        bp::process_stdio{nullptr, child.out, child.err}, bp::process_start_dir(request.cwd.string()),
        bp::process_environment(request.env), child_setup{request.limits});
    if (ec)
        return make_workspace_error(command_errc::spawn_failed, {},
                                    "cannot start `" + request.executable.string() + "`: " + ec.message());
    child.pid = proc.id();
    // From here on this code waits for and reaps the child itself (below), so the process
    // object must neither wait for nor kill it when it goes out of scope.
    (void)proc.detach();
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0));
    if (fd >= 0)
        child.pidfd.emplace(ex, fd);
    return {};
}

bool has_exited(pid_t pid) noexcept
{
    siginfo_t info{};
    info.si_pid = 0;
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

asio::awaitable<bool> wait_for_exit(child_process& child, std::chrono::milliseconds limit)
{
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
    asio::steady_timer timer(child.out.get_executor());
    timer.expires_after(limit);
    while (!has_exited(child.pid))
    {
        if (child.pidfd)
        {
            // A pidfd becomes readable when the process exits. Only waitid (above) decides,
            // though: a wait operation can complete spuriously (Asio may deliver a stale epoll
            // event of a closed descriptor whose state it reused for this one).
            auto done = co_await (child.pidfd->async_wait(asio::posix::descriptor_base::wait_read, tuple_awaitable) ||
                                  timer.async_wait(tuple_awaitable));
            if (done.index() == 1 || std::get<0>(std::get<0>(done)))
                break;  // the deadline, a cancellation, or a failed descriptor
            continue;
        }
        // No pidfd (kernel < 5.3): poll.
        if (std::chrono::steady_clock::now() >= timer.expiry())
            break;
        asio::steady_timer tick(child.out.get_executor(), std::chrono::milliseconds(20));
        if (auto [ec] = co_await tick.async_wait(tuple_awaitable); ec)
            break;
    }
    co_return has_exited(child.pid);
}

void signal_group(pid_t pid, int sig) noexcept
{
    if (pid > 0)
        ::kill(-pid, sig);
}

int reap(pid_t pid) noexcept
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    return status;
}

}  // namespace ep::engine::detail
