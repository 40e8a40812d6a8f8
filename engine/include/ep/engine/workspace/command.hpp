#pragma once
// Running a command in the workspace: command phases (`run:`), the `run_tests` tool and git.
// One seam (STYLE.md §18): `command_runner` is the interface the executor holds;
// `process_command_runner` is the real one (Boost.Process v2 on the caller's executor).
//
// What a command gets:
// - argv, run without a shell, or `shell: true` and a script run as `/bin/sh -c SCRIPT`;
//   stdin is /dev/null; the program is looked up on the child's PATH before anything starts;
// - a working directory inside the workspace (workspace::directory_path: no escape);
// - a scrubbed environment: PATH (the engine's, or command_options::path), HOME and TMPDIR (a
//   fresh private directory per command, removed afterwards), LANG (bubblewrap adds PWD), plus the spec's `env`
//   additions. An addition named EP_*_API_KEY, or whose value contains a configured secret, is
//   refused before anything starts (the message never quotes the value);
// - resource limits set in the child before exec (CPU seconds, address space, file size,
//   processes), a new session and process group, the default signal dispositions and an
//   empty signal mask (the engine blocks SIGINT/SIGTERM on its threads and may ignore SIGPIPE;
//   a child must not inherit either);
// - with bubblewrap available (sandbox_mode::automatic/required), a sandbox: the whole file
//   system read-only, the workspace and the command's HOME/TMPDIR directory writable, a private
//   /tmp, /dev and /proc, new PID/IPC/UTS namespaces and no network unless `network: true`,
//   no capabilities, killed with its parent. Without bubblewrap the command runs with the
//   user's rights: it can read and write whatever the user can and reach the network; only the
//   rlimits, the scrubbed environment and the process group apply. The result says which
//   (`sandbox`: "bwrap" or "none (REASON)").
//
// Output: stdout and stderr are read concurrently; complete occurrences of configured secrets
// are replaced by "[REDACTED]" (a secret split across reads is held back until it can be
// judged); chunks reach the output callback coalesced (at most every coalesce_interval, or
// once coalesce_bytes are pending). The result keeps the tail of each stream and of both
// interleaved, each at most `output_cap` bytes, starting with "[… N bytes dropped …]" when
// something was dropped.
//
// Ending: on timeout or cancellation the whole process group gets SIGTERM, then SIGKILL after
// kill_grace; when the command itself exits, what is left of its group gets SIGKILL (while the
// leader's zombie still reserves the group id); then the child is reaped. Processes that left
// the group (setsid) without a sandbox are not found — under bubblewrap the PID namespace ends
// with the command, taking them along. Pipes held open by such escapees are closed after
// drain_timeout.

#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/workspace.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Set in the child before exec (setrlimit; soft = hard, except CPU whose hard limit is one
/// second later so SIGXCPU arrives before SIGKILL). nullopt leaves the engine's own.
/// RLIMIT_NPROC counts every process of the user, not only the command's, and does not bind
/// root; the others are per process.
struct resource_limits
{
    std::optional<std::uint64_t> cpu_seconds = 600;                  // RLIMIT_CPU → SIGXCPU
    std::optional<std::uint64_t> address_space_bytes = 8ull << 30;   // RLIMIT_AS: 8 GiB
    std::optional<std::uint64_t> file_size_bytes = 1ull << 30;       // RLIMIT_FSIZE → SIGXFSZ: 1 GiB
    std::optional<std::uint64_t> processes = 4096;                   // RLIMIT_NPROC
};

enum class sandbox_mode
{
    automatic,  // bubblewrap when it works here, else none (and the result says why)
    required,   // bubblewrap or the command is refused (command_errc::sandbox_unavailable)
    disabled,   // never (git, trusted tools)
};

/// Runner-wide configuration (one per engine; the workflow's per-command keys are in
/// command_spec).
struct command_options
{
    resource_limits limits;
    sandbox_mode sandbox = sandbox_mode::automatic;
    /// Secret values (API keys): refused in `env` additions, scrubbed from output.
    std::vector<std::string> secrets;
    /// The child's PATH. nullopt: the engine's own PATH, else "/usr/local/bin:/usr/bin:/bin".
    std::optional<std::string> path;
    /// The child's LANG when the engine has none.
    std::string default_lang = "C.UTF-8";
    std::filesystem::path bwrap;      // empty: `bwrap` on the engine's PATH
    std::filesystem::path temp_root;  // where per-command HOME/TMPDIR go; empty: the system temp dir
    std::chrono::milliseconds kill_grace = 2s;             // SIGTERM → SIGKILL
    std::chrono::milliseconds drain_timeout = 1s;          // pipes kept open by escaped processes
    std::chrono::milliseconds coalesce_interval = 100ms;   // output delivered at least this often
    std::size_t coalesce_bytes = 16 * 1024;                // …or as soon as this much is pending
    std::chrono::milliseconds probe_timeout = 10s;         // the one-off bubblewrap probe
};

/// One command (a phase's `run:` and its keys).
struct command_spec
{
    std::vector<std::string> argv;  // program and arguments (shell == false)
    std::string script;             // the `/bin/sh -c` script (shell == true)
    bool shell = false;
    std::string cwd = ".";          // relative to the workspace
    std::map<std::string, std::string> env;   // additions to the scrubbed environment
    std::chrono::milliseconds timeout = 10min;
    bool network = false;           // under bubblewrap: keep the host's network
    std::size_t output_cap = 1u << 20;  // bytes kept of each stream and of both (the tail)
};

enum class output_stream { out, err };
const char* to_string(output_stream s) noexcept;  // "stdout", "stderr"

/// Receives coalesced, redacted output as it arrives, on the runner's executor.
using output_callback = std::function<void(output_stream, std::string_view)>;

struct command_result
{
    std::vector<std::string> argv;  // what ran (shell: /bin/sh -c SCRIPT), without the sandbox
    std::optional<int> exit_code;   // set when the command exited
    std::optional<int> signal;      // set when a signal ended it (SIGXCPU, SIGKILL on timeout, …)
    bool timed_out = false;
    bool cancelled = false;
    std::int64_t duration_ms = 0;
    std::string output;       // stdout and stderr interleaved as they arrived (tail, capped)
    std::string stdout_text;  // tail, capped
    std::string stderr_text;  // tail, capped
    std::uint64_t output_bytes = 0;  // everything the command wrote, before capping
    std::string sandbox;      // "bwrap" or "none (REASON)"

    /// Exited with 0, not timed out, not cancelled.
    bool succeeded() const noexcept;
    /// exit_code, or 128 + signal (the shell's convention), or -1.
    int status_code() const noexcept;
    /// "exit code 1", "killed by SIGKILL after the 5s timeout", "cancelled", …
    std::string describe() const;
    /// A command phase's `json`: {exit_code (status_code()), signal (or null), timed_out,
    /// stdout, stderr, duration_ms, sandbox}.
    nlohmann::json to_json() const;
};

struct sandbox_status
{
    bool available = false;
    std::string description;  // "bwrap" or why not ("bwrap is not installed …", its error)
};

/// The seam the executor holds (a fake in executor tests).
class command_runner
{
public:
    virtual ~command_runner() = default;

    /// Runs `spec` in `ws` to its end. Returns an error (command_errc, or workspace_errc for the
    /// cwd) only when the command could not start: nothing ran then. A command that ran returns
    /// a command_result whatever its exit status — allow_failure is the caller's business.
    ///
    /// @par Per-operation cancellation
    /// Terminal: the process group is killed (SIGTERM, kill_grace, SIGKILL), the child reaped,
    /// and the result returned with `cancelled` set. `ws` must outlive the call (the spec and
    /// the callback are taken by value, so a coroutine may be spawned with temporaries).
    virtual asio::awaitable<ws_result<command_result>> run(command_spec spec, const workspace& ws,
                                                           output_callback on_output = {}) = 0;
};

/// The real runner. Strand-confined: construct it and call run() on `ex`'s thread; several
/// commands may run at once.
class process_command_runner final : public command_runner
{
public:
    explicit process_command_runner(asio::any_io_executor ex, command_options options = {});

    asio::awaitable<ws_result<command_result>> run(command_spec spec, const workspace& ws,
                                                   output_callback on_output = {}) override;

    /// Whether bubblewrap works here (probed once, by running it, then remembered).
    asio::awaitable<sandbox_status> sandbox();

    const command_options& options() const noexcept { return options_; }

private:
    asio::any_io_executor ex_;
    command_options options_;
    std::optional<sandbox_status> sandbox_;
    std::filesystem::path bwrap_path_;
};

/// The environment a command gets (see the header comment), as NAME=VALUE strings, or why an
/// addition is refused. Pure.
ws_result<std::vector<std::string>> command_environment(const command_spec& spec, const command_options& options,
                                                        const std::filesystem::path& home,
                                                        const std::filesystem::path& tmpdir);

}  // namespace ep::engine
