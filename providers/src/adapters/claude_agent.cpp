// claude_agent: the Claude Code CLI as a provider (Boost.Process v2 with Asio pipes).

#include "adapters/claude_agent.hpp"

#include "sansio/wire.hpp"

#include <ep/common/redact.hpp>
#include <ep/providers/call_deadline.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <cstdlib>
#include <optional>

extern char** environ;

namespace ep::providers::adapters {

namespace bp = boost::process::v2;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t stderr_keep = 8 * 1024;  // the tail of stderr kept for the error message

bool is_executable_file(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// cfg.cli_path, then EP_CLAUDE_CLI, then `claude` on PATH. Empty with `why` set if none.
std::string resolve_cli(const provider_config& cfg, std::string& why)
{
    std::string configured = cfg.cli_path;
    if (configured.empty())
        if (const char* env = std::getenv("EP_CLAUDE_CLI"); env && *env)
            configured = env;
    if (!configured.empty())
    {
        if (is_executable_file(configured))
            return configured;
        why = "the Claude Code CLI '" + configured + "' (EP_CLAUDE_CLI) is not an executable file";
        return {};
    }
    auto found = bp::environment::find_executable("claude");
    if (!found.empty())
        return found.string();
    why = "the Claude Code CLI was not found: install it (npm i -g @anthropic-ai/claude-code) and put "
          "`claude` on PATH, or set EP_CLAUDE_CLI to its path";
    return {};
}

/// The parent's environment minus CLAUDECODE (so a CLI started from inside Claude Code does
/// not think it is nested; PROVIDERS.md §5.3), with non-essential traffic turned off.
std::vector<std::string> child_environment()
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
    {
        std::string_view kv(*e);
        auto name = kv.substr(0, kv.find('='));
        if (name == "CLAUDECODE" || name == "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC")
            continue;
        env.emplace_back(kv);
    }
    env.emplace_back("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1");
    return env;
}

/// A child that exits before reading all of stdin would otherwise kill us with SIGPIPE on the
/// next write to the pipe; with SIGPIPE ignored the write fails with EPIPE instead. Only
/// changed when nobody installed a handler.
void ignore_sigpipe_once()
{
    static const bool done = [] {
        struct sigaction current{};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
            ::signal(SIGPIPE, SIG_IGN);
        return true;
    }();
    (void)done;
}

asio::awaitable<bool> is_cancelled()
{
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() != asio::cancellation_type::none;
}

asio::awaitable<void> write_prompt(asio::writable_pipe& in, const std::string& prompt)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::async_write(in, asio::buffer(prompt), use_tuple);  // EPIPE: the child exited; its status tells
    error_code ignored;
    in.close(ignored);  // EOF: the prompt is complete
}

asio::awaitable<void> read_stderr(asio::readable_pipe& err, std::string& tail)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    std::array<char, 4096> buf;
    for (;;)
    {
        if (co_await is_cancelled())
            co_return;
        auto [ec, n] = co_await err.async_read_some(asio::buffer(buf), use_tuple);
        tail.append(buf.data(), n);
        if (tail.size() > stderr_keep)
            tail.erase(0, tail.size() - stderr_keep);
        if (ec)
            co_return;
    }
}

struct stdout_outcome
{
    error_code ec;                      // decoder error, truncation, or the consumer leaving
    std::optional<stream_event> finish; // held back until the exit status is known
};

/// The CLI's silence limits: `first_byte` until its first output, then `idle` between two
/// reads. When one passes, `kill` ends the child (so every pipe of it closes and nothing
/// waits on a hung process) and `fired` tells the reader why. Shared with the timer's
/// handler, which may run after read_stdout has returned (then it does nothing).
struct silence_watchdog
{
    std::function<void()> kill;  // empty once read_stdout has returned
    bool fired = false;
    bool first = true;  // no output yet: the first-byte limit applies
    std::chrono::milliseconds limit{0};

    static void arm(const std::shared_ptr<silence_watchdog>& self, asio::steady_timer& timer,
                    const timeout_config& timeouts)
    {
        self->limit = self->first ? timeouts.first_byte : timeouts.idle;
        if (self->limit.count() <= 0)
            return;
        timer.expires_after(self->limit);
        timer.async_wait([self](error_code ec) {
            if (ec || !self->kill)
                return;
            self->fired = true;
            self->kill();
        });
    }
};

std::string seconds_text(std::chrono::milliseconds d)
{
    const auto ms = d.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

asio::awaitable<stdout_outcome> read_stdout(asio::readable_pipe& pipe, event_channel& out, diagnostics& diag,
                                            timeout_config timeouts, std::function<void()> kill)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto watchdog = std::make_shared<silence_watchdog>();
    watchdog->kill = std::move(kill);
    asio::steady_timer timer(pipe.get_executor());
    struct disarm
    {
        std::shared_ptr<silence_watchdog> w;
        asio::steady_timer& t;
        ~disarm()
        {
            w->kill = nullptr;
            t.cancel();
        }
    } disarm_on_exit{watchdog, timer};
    auto decoder = sansio::make_claude_stream_json_decoder();
    std::vector<stream_event> events;
    std::array<char, 64 * 1024> buf;
    stdout_outcome result;

    auto deliver = [&]() -> asio::awaitable<error_code> {
        for (auto& ev : events)
        {
            if (co_await is_cancelled())
                co_return asio::error::operation_aborted;
            if (std::holds_alternative<finish_event>(ev))
            {
                result.finish = std::move(ev);
                continue;
            }
            auto [sec] = co_await out.async_send(error_code{}, std::move(ev), use_tuple);
            if (sec)
                co_return asio::error::operation_aborted;
        }
        events.clear();
        co_return error_code{};
    };

    for (;;)
    {
        if (co_await is_cancelled())  // arrived between two reads: nothing pending to cancel
            co_return stdout_outcome{asio::error::operation_aborted, {}};
        silence_watchdog::arm(watchdog, timer, timeouts);
        auto [rec, n] = co_await pipe.async_read_some(asio::buffer(buf), use_tuple);
        timer.cancel();
        if (watchdog->fired)
        {
            const bool first = watchdog->first;
            diag.message = std::string(first ? "no output from the Claude Code CLI within "
                                             : "the Claude Code CLI went silent for ") +
                           seconds_text(watchdog->limit) + (first ? " (first_byte timeout)" : " (idle timeout)");
            co_return stdout_outcome{first ? provider_errc::first_byte_timeout : provider_errc::idle_timeout, {}};
        }
        if (n > 0)
        {
            watchdog->first = false;
            const error_code dec = decoder->feed(std::string_view(buf.data(), n), events, diag);
            if (auto sec = co_await deliver())
                co_return stdout_outcome{sec, {}};
            if (dec)
                co_return stdout_outcome{dec, {}};
        }
        if (rec == asio::error::eof)
            break;
        if (rec)
        {
            if (co_await is_cancelled())
                co_return stdout_outcome{asio::error::operation_aborted, {}};
            diag.message = "reading the CLI's output failed: " + rec.message();
            co_return stdout_outcome{provider_errc::cli_failed, {}};
        }
    }
    const error_code fin = decoder->finish(events, diag);
    if (auto sec = co_await deliver())
        co_return stdout_outcome{sec, {}};
    result.ec = fin;
    co_return result;
}

}  // namespace

claude_agent_provider::claude_agent_provider(asio::any_io_executor ex, provider_config cfg,
                                             std::shared_ptr<spdlog::logger> log)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), log_(std::move(log))
{
    ignore_sigpipe_once();
}

asio::awaitable<call_status> claude_agent_provider::stream_chat(const chat_request& req, event_channel& out)
{
    co_return co_await run_with_total_timeout(run(req, out), cfg_.timeouts.total);
}

asio::awaitable<call_status> claude_agent_provider::run(const chat_request& req, event_channel& out)
{
    call_status status;
    std::string why;
    const std::string exe = resolve_cli(cfg_, why);
    if (exe.empty())
    {
        status.ec = provider_errc::cli_missing;
        status.diag.message = why;
        co_return status;
    }

    const std::vector<std::string> args = sansio::claude_cli_args(cfg_, req);
    const std::string prompt = sansio::claude_cli_prompt(req);

    asio::writable_pipe in(ex_);
    asio::readable_pipe out_pipe(ex_);
    asio::readable_pipe err_pipe(ex_);
    error_code ec;
    bp::process proc = bp::default_process_launcher()(ex_, ec, exe, args, bp::process_stdio{in, out_pipe, err_pipe},
                                                      bp::process_environment(child_environment()));
    if (ec)
    {
        status.ec = ec == std::errc::no_such_file_or_directory || ec == std::errc::permission_denied
                        ? provider_errc::cli_missing
                        : provider_errc::cli_failed;
        status.diag.message = "could not start the Claude Code CLI '" + exe + "': " + ec.message();
        co_return status;
    }
    if (log_)
        log_->debug("{}: started {} (pid {})", cfg_.name, exe, proc.id());

    // stdin, stdout and stderr all at once: a child blocked writing a full stderr pipe while
    // we wait on stdout (or the reverse) would hang both.
    std::string stderr_tail;
    diagnostics diag;
    const std::function<void()> kill_child = [&proc] {
        error_code ignored;
        proc.terminate(ignored);
    };
    auto [order, ex_in, ex_err, ex_out, outcome] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex_, write_prompt(in, prompt), asio::deferred),
            asio::co_spawn(ex_, read_stderr(err_pipe, stderr_tail), asio::deferred),
            asio::co_spawn(ex_, read_stdout(out_pipe, out, diag, cfg_.timeouts, kill_child), asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (ex_in || ex_err || ex_out)
    {
        proc.terminate(ec);
        std::rethrow_exception(ex_in ? ex_in : ex_err ? ex_err : ex_out);
    }

    auto scrubbed_tail = [&] {
        redactor r;
        if (!cfg_.api_key.empty())
            r.add_secret(cfg_.api_key);
        return r.scrub(stderr_tail);
    };

    if (co_await is_cancelled() || outcome.ec == asio::error::operation_aborted)
    {
        proc.terminate(ec);  // SIGKILL and reap
        status.ec = asio::error::operation_aborted;
        status.diag.message = "cancelled; the Claude Code CLI was killed";
        co_return status;
    }
    if (outcome.ec && outcome.ec != provider_errc::stream_truncated)
    {
        // is_error / malformed output: the CLI has said all it will.
        proc.terminate(ec);
        status.ec = outcome.ec;
        status.diag = std::move(diag);
        if (status.diag.provider_message.empty())
            status.diag.provider_message = scrubbed_tail();
        co_return status;
    }

    // stdout is closed; the exit status decides between success and failure.
    if (co_await is_cancelled())
    {
        proc.terminate(ec);
        status.ec = asio::error::operation_aborted;
        status.diag.message = "cancelled; the Claude Code CLI was killed";
        co_return status;
    }
    auto [wec, exit_code] = co_await proc.async_wait(use_tuple);
    if (wec)
    {
        proc.terminate(ec);
        if (co_await is_cancelled())
        {
            status.ec = asio::error::operation_aborted;
            status.diag.message = "cancelled; the Claude Code CLI was killed";
            co_return status;
        }
        status.ec = provider_errc::cli_failed;
        status.diag.message = "waiting for the Claude Code CLI failed: " + wec.message();
        co_return status;
    }
    if (exit_code != 0)
    {
        status.ec = provider_errc::cli_failed;
        status.diag = std::move(diag);
        status.diag.message = "the Claude Code CLI exited with status " + std::to_string(exit_code);
        status.diag.provider_message = scrubbed_tail();
        co_return status;
    }
    if (outcome.ec)
    {
        status.ec = outcome.ec;  // stream_truncated: exit 0 without a result line
        status.diag = std::move(diag);
        if (status.diag.message.empty())
            status.diag.message = "the Claude Code CLI exited without its result line";
        co_return status;
    }
    if (!outcome.finish)
    {
        status.ec = provider_errc::stream_truncated;
        status.diag.message = "the Claude Code CLI output ended without a finish event";
        co_return status;
    }
    auto [sec] = co_await out.async_send(error_code{}, std::move(*outcome.finish), use_tuple);
    if (sec)
    {
        status.ec = asio::error::operation_aborted;
        status.diag.message = "cancelled";
    }
    co_return status;
}

}  // namespace ep::providers::adapters
