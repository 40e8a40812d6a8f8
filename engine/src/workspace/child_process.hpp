#pragma once
// Starting a command's process (Boost.Process v2) and ending it: a new session, rlimits and
// default signal state in the child; a pidfd to learn of its exit without reaping it, so the
// process group id stays reserved while the rest of the group is killed.

#include <ep/engine/workspace/command.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ep::engine::detail {

struct launch_request
{
    std::filesystem::path executable;  // absolute
    std::vector<std::string> args;     // argv[1…]
    std::filesystem::path cwd;
    std::vector<std::string> env;      // NAME=VALUE, the whole environment
    resource_limits limits;
};

/// A started child: its pid (also its process group and session id) and its output pipes.
struct child_process
{
    pid_t pid = -1;
    asio::readable_pipe out;
    asio::readable_pipe err;
    std::optional<asio::posix::stream_descriptor> pidfd;  // absent on kernels before 5.3

    explicit child_process(const asio::any_io_executor& ex) : out(ex), err(ex) {}
};

/// Starts the child. Errors: spawn_failed (with the system's reason) — the program was
/// resolved by the caller, so ENOENT here means the executable vanished meanwhile.
ws_result<void> launch(child_process& child, const launch_request& request);

/// Has the child exited? (waitid with WNOWAIT: it is not reaped.)
bool has_exited(pid_t pid) noexcept;

/// Waits until the child exits or `limit` passes (or the awaiting coroutine is cancelled).
/// Does not reap. Returns has_exited().
asio::awaitable<bool> wait_for_exit(child_process& child, std::chrono::milliseconds limit);

/// kill(-pid, sig): the whole process group.
void signal_group(pid_t pid, int sig) noexcept;

/// Reaps the (exited) child and returns its wait status.
int reap(pid_t pid) noexcept;

/// The absolute path of `program` on `path` (a PATH value), or of `program` itself when it
/// contains a `/` (relative to `cwd`); empty when it is not an executable regular file.
std::filesystem::path find_program(const std::string& program, const std::string& path,
                                   const std::filesystem::path& cwd);

}  // namespace ep::engine::detail
