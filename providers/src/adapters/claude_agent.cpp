// claude_agent: the Claude Code CLI as a provider (Boost.Process v2 with Asio pipes).

#include "adapters/claude_agent.hpp"

#include "adapters/event_pump.hpp"
#include "adapters/secrets.hpp"

#include <ep/common/env.hpp>
#include <ep/providers/call_deadline.hpp>
#include <ep/providers/options.hpp>

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

/// EP's own credentials (EP_OPENAI_API_KEY, EP_SERVE_TOKENS, …) stay out of the child.
bool is_ep_secret(std::string_view name)
{
    return name.starts_with("EP_") && (name.ends_with("_API_KEY") || name.ends_with("_TOKEN") ||
                                       name.ends_with("_TOKENS") || name.ends_with("_SECRET"));
}

/// The parent's environment minus CLAUDECODE (the Agent SDK removes it, so that a CLI started
/// from inside Claude Code does not think it is nested) and EP's secrets, with non-essential
/// traffic (telemetry, feature flags) turned off.
std::vector<std::string> child_environment()
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
    {
        std::string_view kv(*e);
        auto name = kv.substr(0, kv.find('='));
        if (name == "CLAUDECODE" || name == "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC" || is_ep_secret(name))
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

/// The CLI's silence limits: `first_byte` until its first output, then `idle` between two
/// reads, and until its first content the first-token deadline when that is nearer. When one
/// passes, `kill` ends the child (so every pipe of it closes and nothing waits on a hung
/// process) and `fired` tells the reader why. Shared with the timer's handler, which may run
/// after read_stdout has returned (then it does nothing).
struct silence_watchdog
{
    std::function<void()> kill;  // empty once read_stdout has returned
    bool fired = false;
    bool first = true;  // no output yet: the first-byte limit applies
    std::chrono::milliseconds limit{0};
    std::optional<std::chrono::steady_clock::time_point> token_deadline;  // until the first content
    std::chrono::milliseconds token_limit{0};
    bool token = false;  // the armed deadline is the first-token one

    static void arm(const std::shared_ptr<silence_watchdog>& self, asio::steady_timer& timer,
                    const timeout_config& timeouts)
    {
        self->limit = self->first ? timeouts.first_byte : timeouts.idle;
        auto at = std::chrono::steady_clock::time_point::max();
        if (self->limit.count() > 0)
            at = std::chrono::steady_clock::now() + self->limit;
        self->token = self->token_deadline && *self->token_deadline < at;
        if (self->token)
            at = *self->token_deadline;
        if (at == std::chrono::steady_clock::time_point::max())
            return;
        timer.expires_at(at);
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

/// The CLI's stdout as a byte_source, under the silence watchdog.
class stdout_source final : public byte_source
{
public:
    stdout_source(asio::readable_pipe& pipe, const timeout_config& timeouts, std::shared_ptr<silence_watchdog> watchdog,
                  asio::steady_timer& timer)
        : pipe_(pipe), timeouts_(timeouts), watchdog_(std::move(watchdog)), timer_(timer)
    {
    }

    asio::awaitable<error_code> read(std::string& out, diagnostics& diag) override
    {
        out.clear();
        if (co_await is_cancelled())  // arrived between two reads: nothing pending to cancel
            co_return asio::error::operation_aborted;
        silence_watchdog::arm(watchdog_, timer_, timeouts_);
        auto [rec, n] = co_await pipe_.async_read_some(asio::buffer(buf_), use_tuple);
        timer_.cancel();
        if (watchdog_->fired && watchdog_->token)
        {
            diag.message = "no content from the Claude Code CLI within " + seconds_text(watchdog_->token_limit) +
                           " (first_token timeout)";
            co_return provider_errc::first_token_timeout;
        }
        if (watchdog_->fired)
        {
            const bool first = watchdog_->first;
            diag.message = std::string(first ? "no output from the Claude Code CLI within "
                                             : "the Claude Code CLI went silent for ") +
                           seconds_text(watchdog_->limit) + (first ? " (first_byte timeout)" : " (idle timeout)");
            co_return first ? provider_errc::first_byte_timeout : provider_errc::idle_timeout;
        }
        if (n > 0)
        {
            watchdog_->first = false;
            out.assign(buf_.data(), n);
            co_return error_code{};  // an error that came with the bytes shows on the next read
        }
        if (rec == asio::error::eof)
            co_return error_code{};
        if (rec)
        {
            if (co_await is_cancelled())
                co_return asio::error::operation_aborted;
            diag.message = "reading the CLI's output failed: " + rec.message();
            co_return provider_errc::cli_failed;
        }
        co_return error_code{};
    }

    void abort() noexcept override
    {
        if (watchdog_->kill)
            watchdog_->kill();
    }
    void first_content() noexcept override { watchdog_->token_deadline.reset(); }

private:
    asio::readable_pipe& pipe_;
    const timeout_config& timeouts_;
    std::shared_ptr<silence_watchdog> watchdog_;
    asio::steady_timer& timer_;
    std::array<char, 64 * 1024> buf_;
};

/// Decodes the CLI's stdout into `out` until it closes (the child must be drained, or it
/// could block writing), holding the finish event back for the exit status.
asio::awaitable<pump_result> read_stdout(asio::readable_pipe& pipe, event_channel& out, diagnostics& diag,
                                         timeout_config timeouts,
                                         std::unique_ptr<sansio::stream_decoder> (*make_decoder)(),
                                         std::function<void()> kill)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto watchdog = std::make_shared<silence_watchdog>();
    watchdog->kill = std::move(kill);
    if (timeouts.first_token.count() > 0)  // the prompt is on its way: the clock starts
    {
        watchdog->token_limit = timeouts.first_token;
        watchdog->token_deadline = std::chrono::steady_clock::now() + timeouts.first_token;
    }
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
    stdout_source source(pipe, timeouts, watchdog, timer);
    auto decoder = make_decoder();
    co_return co_await decode_and_deliver(source, *decoder, out, diag, /*read_to_end=*/true);
}

}  // namespace

claude_agent_provider::claude_agent_provider(asio::any_io_executor ex, provider_config cfg, sansio::cli_codec codec,
                                             std::shared_ptr<const ep::environment> env,
                                             std::shared_ptr<spdlog::logger> log, std::vector<std::string> secrets)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      codec_(codec),
      env_(std::move(env)),
      log_(std::move(log)),
      secrets_(std::move(secrets))
{
    ignore_sigpipe_once();
}

asio::awaitable<call_status> claude_agent_provider::stream_chat(const chat_request& req, event_channel& out)
{
    call_status status = co_await run_with_total_timeout(run(req, out), cfg_.timeouts.total);
    // The one place every failure of the CLI passes: its stderr and result text may echo a key.
    scrub_secrets(status.diag, cfg_, secrets_);
    co_return status;
}

namespace {

call_status failure(error_code ec, std::string message, diagnostics diag = {})
{
    diag.message = std::move(message);
    return {ec, std::move(diag)};
}

const char* const killed_on_cancel = "cancelled; the Claude Code CLI was killed";

}  // namespace

/// What one run of the child produced.
struct claude_agent_provider::child_output
{
    pump_result outcome;  // stdout, decoded and delivered
    diagnostics diag;
    std::string stderr_tail;
};

asio::awaitable<call_status> claude_agent_provider::run(const chat_request& req, event_channel& out)
{
    const cli_location where = locate_claude_cli(cfg_, env_ ? *env_ : ep::environment::load());
    if (!where.problem.empty())
        co_return failure(provider_errc::cli_missing, where.problem);

    asio::writable_pipe in(ex_);
    asio::readable_pipe out_pipe(ex_);
    asio::readable_pipe err_pipe(ex_);
    error_code ec;
    bp::process proc = bp::default_process_launcher()(ex_, ec, where.path, codec_.args(cfg_, req),
                                                      bp::process_stdio{in, out_pipe, err_pipe},
                                                      bp::process_environment(child_environment()));
    if (ec)
        co_return failure(ec == std::errc::no_such_file_or_directory || ec == std::errc::permission_denied
                              ? provider_errc::cli_missing
                              : provider_errc::cli_failed,
                          "could not start the Claude Code CLI '" + where.path + "': " + ec.message());
    if (log_)
        log_->debug("{}: started {} (pid {})", cfg_.name, where.path, proc.id());

    child_output child;
    timeout_config timeouts = cfg_.timeouts;
    if (req.first_token_timeout)
        timeouts.first_token = *req.first_token_timeout;
    const std::function<void()> kill_child = [&proc] {
        error_code ignored;
        proc.terminate(ignored);
    };
    // stdin, stdout and stderr all at once: a child blocked writing a full stderr pipe while
    // we wait on stdout (or the reverse) would hang both.
    auto [order, ex_in, ex_err, ex_out, outcome] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex_, write_prompt(in, codec_.stdin_text(req)), asio::deferred),
            asio::co_spawn(ex_, read_stderr(err_pipe, child.stderr_tail), asio::deferred),
            asio::co_spawn(ex_, read_stdout(out_pipe, out, child.diag, timeouts, codec_.make_decoder, kill_child),
                           asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (ex_in || ex_err || ex_out)
    {
        proc.terminate(ec);
        std::rethrow_exception(ex_in ? ex_in : ex_err ? ex_err : ex_out);
    }
    child.outcome = std::move(outcome);
    co_return co_await conclude(proc, child, out);
}

asio::awaitable<call_status> claude_agent_provider::conclude(bp::process& proc, child_output& child,
                                                             event_channel& out)
{
    error_code ignored;
    const auto& outcome = child.outcome;
    if (co_await is_cancelled() || outcome.ec == asio::error::operation_aborted)
    {
        proc.terminate(ignored);  // SIGKILL and reap
        co_return failure(asio::error::operation_aborted, killed_on_cancel);
    }
    if (outcome.ec && outcome.ec != provider_errc::stream_truncated)
    {
        // is_error / malformed output / a timeout: the CLI has said all it will.
        proc.terminate(ignored);
        if (child.diag.provider_message.empty())
            child.diag.provider_message = child.stderr_tail;
        co_return call_status{outcome.ec, std::move(child.diag)};
    }

    // stdout is closed; the exit status decides between success and failure.
    auto [wec, exit_code] = co_await proc.async_wait(use_tuple);
    if (wec)
    {
        proc.terminate(ignored);
        if (co_await is_cancelled())
            co_return failure(asio::error::operation_aborted, killed_on_cancel);
        co_return failure(provider_errc::cli_failed, "waiting for the Claude Code CLI failed: " + wec.message());
    }
    if (exit_code != 0)
    {
        child.diag.provider_message = child.stderr_tail;
        co_return failure(provider_errc::cli_failed,
                          "the Claude Code CLI exited with status " + std::to_string(exit_code), std::move(child.diag));
    }
    if (outcome.ec)  // stream_truncated: exit 0 without a result line
    {
        if (child.diag.message.empty())
            child.diag.message = "the Claude Code CLI exited without its result line";
        co_return call_status{outcome.ec, std::move(child.diag)};
    }
    if (co_await deliver_finish(out, *outcome.finish))
        co_return failure(asio::error::operation_aborted, "cancelled");
    co_return call_status{};
}

}  // namespace ep::providers::adapters
