// process_command_runner: prepares a command (cwd, environment, program, sandbox), runs it with
// its output read concurrently, and ends it (timeout, cancellation) — see command.hpp.
#include "workspace/child_process.hpp"
#include "workspace/output_capture.hpp"
#include "workspace/sandbox.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace ep::engine {

namespace {

using detail::child_process;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The command's HOME and TMPDIR, private to it and removed afterwards.
class scratch_dir
{
public:
    static ws_result<std::unique_ptr<scratch_dir>> create(const std::filesystem::path& temp_root)
    {
        std::error_code ec;
        const auto base = temp_root.empty() ? std::filesystem::temp_directory_path(ec) : temp_root;
        std::string pattern = (base / "ep-cmd-XXXXXX").string();
        if (ec || !::mkdtemp(pattern.data()))
            return make_workspace_error(command_errc::spawn_failed, {},
                                        "cannot create a temporary directory in `" + base.string() +
                                            "`: " + std::strerror(errno));
        auto dir = std::unique_ptr<scratch_dir>(new scratch_dir(pattern));
        std::filesystem::create_directory(dir->home(), ec);
        std::filesystem::create_directory(dir->tmp(), ec);
        return dir;
    }
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);  // does not follow links inside
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path home() const { return path_ / "home"; }
    std::filesystem::path tmp() const { return path_ / "tmp"; }

private:
    explicit scratch_dir(std::filesystem::path p) : path_(std::move(p)) {}
    std::filesystem::path path_;
};

/// Output of one command: redacted, coalesced for the callback, tails kept. Shared with the
/// coalescing timer's handler, which may run after the command's frame is gone.
class output_capture : public std::enable_shared_from_this<output_capture>
{
public:
    output_capture(const asio::any_io_executor& ex, std::size_t cap, const command_options& o, output_callback cb)
        : combined_(cap), tails_{detail::tail_buffer(cap), detail::tail_buffer(cap)},
          pending_{detail::redacting_buffer(o.secrets), detail::redacting_buffer(o.secrets)}, timer_(ex),
          interval_(o.coalesce_interval), threshold_(o.coalesce_bytes), callback_(std::move(cb))
    {
    }

    void append(output_stream s, std::string_view raw)
    {
        pending(s).append(raw);
        if (pending(s).size() >= threshold_)
            deliver(s, false);
        else if (!armed_)
        {
            armed_ = true;
            timer_.expires_after(interval_);
            timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
                self->armed_ = false;
                if (!ec)
                {
                    self->deliver(output_stream::out, false);
                    self->deliver(output_stream::err, false);
                }
            });
        }
    }

    void finish(output_stream s) { deliver(s, true); }

    /// No more deliveries (the run is over; the callback's owner may go away).
    void stop()
    {
        callback_ = nullptr;
        timer_.cancel();
    }

    std::string combined() const { return combined_.text(); }
    std::string tail(output_stream s) const { return tails_[index(s)].text(); }
    std::uint64_t total() const { return combined_.total(); }

private:
    static std::size_t index(output_stream s) { return s == output_stream::out ? 0 : 1; }
    detail::redacting_buffer& pending(output_stream s) { return pending_[index(s)]; }

    void deliver(output_stream s, bool final)
    {
        const std::string text = pending(s).take(final);
        if (text.empty())
            return;
        combined_.append(text);
        tails_[index(s)].append(text);
        if (callback_)
            callback_(s, text);
    }

    detail::tail_buffer combined_;
    std::array<detail::tail_buffer, 2> tails_;
    std::array<detail::redacting_buffer, 2> pending_;
    asio::steady_timer timer_;
    bool armed_ = false;
    std::chrono::milliseconds interval_;
    std::size_t threshold_;
    output_callback callback_;
};

struct run_state
{
    child_process child;
    std::shared_ptr<output_capture> capture;
    asio::steady_timer drain;
    int open_readers = 2;
    bool timed_out = false;
    bool cancelled = false;
    int status = 0;

    run_state(const asio::any_io_executor& ex, std::shared_ptr<output_capture> c)
        : child(ex), capture(std::move(c)), drain(ex)
    {
    }
};

asio::awaitable<void> read_stream(run_state& st, asio::readable_pipe& pipe, output_stream which)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    std::array<char, 64 * 1024> buf;
    for (;;)
    {
        auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buf), use_tuple);
        if (n > 0)
            st.capture->append(which, std::string_view(buf.data(), n));
        if (ec)
            break;
    }
    st.capture->finish(which);
    if (--st.open_readers == 0)
        st.drain.cancel();
}

/// Waits for the exit, the timeout or a cancellation; ends the group; reaps; drains.
asio::awaitable<void> supervise(run_state& st, std::chrono::milliseconds timeout, const command_options& o)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    const pid_t pid = st.child.pid;
    bool exited = co_await detail::wait_for_exit(st.child, timeout);
    if (!exited)
    {
        auto cs = co_await asio::this_coro::cancellation_state;
        (cs.cancelled() != asio::cancellation_type::none ? st.cancelled : st.timed_out) = true;
        detail::signal_group(pid, SIGTERM);
        exited = co_await detail::wait_for_exit(st.child, o.kill_grace);
        if (!exited)
        {
            detail::signal_group(pid, SIGKILL);
            co_await detail::wait_for_exit(st.child, std::chrono::seconds(10));
        }
    }
    // What is left of the group (background jobs), while the unreaped leader still reserves
    // the group id so the signal cannot reach an unrelated group that reused the number.
    detail::signal_group(pid, SIGKILL);
    // A process stuck in uninterruptible sleep may outlive even SIGKILL for a while: report it
    // killed rather than block the event loop in waitpid (it stays a zombie of ours).
    st.status = detail::has_exited(pid) ? detail::reap(pid) : SIGKILL;
    if (st.open_readers > 0)  // a process that left the group may hold the pipes open
    {
        st.drain.expires_after(o.drain_timeout);
        co_await st.drain.async_wait(use_tuple);
        boost::system::error_code ignored;
        if (st.open_readers > 0)
        {
            st.child.out.close(ignored);
            st.child.err.close(ignored);
        }
    }
}

struct execution
{
    int status = 0;
    bool timed_out = false;
    bool cancelled = false;
    std::int64_t duration_ms = 0;
    std::shared_ptr<output_capture> capture;
};

/// Launches `request` and runs it to its end. Errors: the launch failed.
asio::awaitable<ws_result<execution>> execute(const detail::launch_request& request, std::chrono::milliseconds timeout,
                                              std::size_t output_cap, const command_options& o,
                                              output_callback on_output)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto ex = co_await asio::this_coro::executor;
    run_state st(ex, std::make_shared<output_capture>(ex, output_cap, o, std::move(on_output)));
    const auto start = std::chrono::steady_clock::now();
    if (auto ok = detail::launch(st.child, request); !ok)
        co_return ok.error();
    auto [order, e_out, e_err, e_sup] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex, read_stream(st, st.child.out, output_stream::out), asio::deferred),
            asio::co_spawn(ex, read_stream(st, st.child.err, output_stream::err), asio::deferred),
            asio::co_spawn(ex, supervise(st, timeout, o), asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    st.capture->stop();
    if (e_sup || e_out || e_err)
    {
        // A bug (an exception in our own code): make sure nothing is left running. Unless the
        // supervisor failed, it has reaped the child already.
        if (e_sup)
        {
            detail::signal_group(st.child.pid, SIGKILL);
            (void)detail::reap(st.child.pid);
        }
        std::rethrow_exception(e_sup ? e_sup : e_out ? e_out : e_err);
    }
    execution out;
    out.status = st.status;
    out.timed_out = st.timed_out;
    out.cancelled = st.cancelled;
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    out.capture = st.capture;
    co_return out;
}

std::string engine_path()
{
    const char* p = std::getenv("PATH");
    return p && *p ? p : "/usr/local/bin:/usr/bin:/bin";
}

std::string first_line(std::string text)
{
    const auto start = text.find("]\n");  // skip a "[… dropped …]" marker
    if (text.rfind("[… ", 0) == 0 && start != std::string::npos)
        text.erase(0, start + 2);
    const auto nl = text.find('\n');
    return nl == std::string::npos ? text : text.substr(0, nl);
}

ws_result<void> check_spec(const command_spec& spec)
{
    auto invalid = [](std::string why) { return make_workspace_error(command_errc::invalid_spec, {}, std::move(why)); };
    if (spec.shell && (spec.script.empty() || !spec.argv.empty()))
        return invalid("a shell command is one non-empty script string (`run: \"…\"` with `shell: true`)");
    if (!spec.shell && (spec.argv.empty() || spec.argv.front().empty() || !spec.script.empty()))
        return invalid("a command without a shell is a non-empty argv list (`run: [program, args…]`); a string "
                       "needs `shell: true`");
    if (spec.timeout.count() <= 0)
        return invalid("the timeout must be positive");
    for (const auto& a : spec.argv)
        if (a.find('\0') != std::string::npos)
            return invalid("an argument contains a NUL byte");
    return {};
}

}  // namespace

process_command_runner::process_command_runner(asio::any_io_executor ex, command_options options)
    : ex_(std::move(ex)), options_(std::move(options))
{
}

asio::awaitable<sandbox_status> process_command_runner::sandbox()
{
    if (sandbox_)
        co_return *sandbox_;
    sandbox_status status;
    const auto bwrap = options_.bwrap.empty() ? detail::find_program("bwrap", engine_path(), "/") : options_.bwrap;
    const auto true_program = detail::find_program("true", engine_path(), "/");
    if (options_.sandbox == sandbox_mode::disabled)
        status.description = "disabled";
    else if (bwrap.empty())
        status.description = "bubblewrap is not installed (Debian package `bubblewrap`)";
    else
    {
        detail::launch_request probe;
        probe.executable = bwrap;
        probe.args = detail::bwrap_isolation_flags(false);
        for (const char* a : {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--"})
            probe.args.emplace_back(a);
        probe.args.push_back(true_program.empty() ? "/bin/true" : true_program.string());
        probe.cwd = "/";
        probe.env = {"PATH=" + engine_path()};
        auto ran = co_await execute(probe, options_.probe_timeout, 4096, options_, {});
        if (!ran)
            status.description = "bwrap cannot be started: " + ran.error().str();
        else if (ran->timed_out || ran->cancelled)
            status.description = "bwrap did not finish its probe in time";
        else if (WIFEXITED(ran->status) && WEXITSTATUS(ran->status) == 0)
        {
            status.available = true;
            status.description = "bwrap";
        }
        else
            status.description = "bwrap cannot run here: " + first_line(ran->capture->tail(output_stream::err));
    }
    sandbox_ = status;
    bwrap_path_ = bwrap;
    co_return status;
}

asio::awaitable<ws_result<command_result>> process_command_runner::run(command_spec spec, const workspace& ws,
                                                                       output_callback on_output)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    if (auto ok = check_spec(spec); !ok)
        co_return ok.error();
    auto cwd = ws.directory_path(spec.cwd);
    if (!cwd)
        co_return make_workspace_error(command_errc::cwd_refused, cwd.error().path, "cwd " + cwd.error().str());
    auto scratch = scratch_dir::create(options_.temp_root);
    if (!scratch)
        co_return scratch.error();
    auto env = command_environment(spec, options_, (*scratch)->home(), (*scratch)->tmp());
    if (!env)
        co_return env.error();

    command_result result;
    result.argv = spec.shell ? std::vector<std::string>{"/bin/sh", "-c", spec.script} : spec.argv;
    const std::string child_path = options_.path.value_or(engine_path());
    const auto program = detail::find_program(result.argv.front(), child_path, *cwd);
    if (program.empty())
        co_return make_workspace_error(command_errc::program_not_found, {},
                                       "`" + printable_path(result.argv.front()) + "` was not found" +
                                           (result.argv.front().find('/') == std::string::npos
                                                ? " on PATH (" + child_path + ")"
                                                : " or is not an executable file"));

    detail::launch_request request;
    request.cwd = *cwd;
    request.env = std::move(*env);
    request.limits = options_.limits;
    std::vector<std::string> args(result.argv.begin() + 1, result.argv.end());
    const sandbox_status box = co_await sandbox();
    if (options_.sandbox == sandbox_mode::required && !box.available)
        co_return make_workspace_error(command_errc::sandbox_unavailable, {},
                                       "a sandbox is required but " + box.description);
    if (box.available)
    {
        request.executable = bwrap_path_;
        request.args = detail::bwrap_arguments({ws.root(), (*scratch)->path(), *cwd, spec.network});
        request.args.push_back("--");
        request.args.push_back(program.string());
        request.args.insert(request.args.end(), args.begin(), args.end());
        result.sandbox = "bwrap";
    }
    else
    {
        request.executable = program;
        request.args = std::move(args);
        result.sandbox = "none (" + box.description + ")";
    }

    auto ran = co_await execute(request, spec.timeout, spec.output_cap, options_, std::move(on_output));
    if (!ran)
        co_return ran.error();
    if (WIFEXITED(ran->status))
        result.exit_code = WEXITSTATUS(ran->status);
    else if (WIFSIGNALED(ran->status))
        result.signal = WTERMSIG(ran->status);
    result.timed_out = ran->timed_out;
    result.cancelled = ran->cancelled;
    result.duration_ms = ran->duration_ms;
    result.output = ran->capture->combined();
    result.stdout_text = ran->capture->tail(output_stream::out);
    result.stderr_text = ran->capture->tail(output_stream::err);
    result.output_bytes = ran->capture->total();
    co_return result;
}

}  // namespace ep::engine
