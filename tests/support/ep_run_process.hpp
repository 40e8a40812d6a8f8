// Runs the real `ep-run` binary as a child process, for the tests that need a whole process:
// kill -9, signals, exit codes.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ep::testing {

/// The ep-run built next to the tests.
std::filesystem::path ep_run_binary();

/// Starts ep-run with `args` in `cwd`; stdout and stderr go to `out` and `err`. The child gets no
/// provider keys and no EP_DB/EP_HOME, and the emulator is paced so that the 6-phase sdlc
/// workflow takes about 1.3 s (tests then have time to act mid-run). Returns the pid.
pid_t spawn_ep_run(const std::vector<std::string>& args, const std::filesystem::path& out,
                   const std::filesystem::path& err, const std::filesystem::path& cwd);

/// How a child ended, as a shell reports it: the exit code, or 128 + the signal that killed it.
struct child_exit
{
    bool exited = false;     // false: killed by a signal
    int code = 0;            // exit status, or 128 + signal
    bool timed_out = false;  // it outlived the wait and was killed with SIGKILL
};

/// Waits for `pid` to end; after `timeout` it is killed (so a hung child fails the test instead
/// of hanging it).
child_exit wait_child(pid_t pid, std::chrono::milliseconds timeout = std::chrono::minutes(2));

/// A fresh directory under the system temp directory, removed with everything in it at the end.
class scratch_dir
{
public:
    explicit scratch_dir(const std::string& prefix);
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// The whole content of a file ("" when it does not exist).
std::string slurp(const std::filesystem::path& path);

/// The JSON objects of an `--json` output file, one per line (a line cut by a kill is skipped).
std::vector<nlohmann::json> json_lines(const std::filesystem::path& file);

/// The events of `type`, and of `phase` when it is not empty.
std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& events, const std::string& type,
                                    const std::string& phase = "");

/// What a shell command prints on stdout (git, for assertions).
std::string capture(const std::string& command);

}  // namespace ep::testing
