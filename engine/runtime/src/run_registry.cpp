// run_registry: runs in flight in a long-lived process, each with its hub, control and
// observers; start/resume complete once the run session exists, the run goes on behind.
#include <ep/runtime/run_registry.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <algorithm>

namespace ep::runtime {

namespace ps = ep::persistence;

namespace {
constexpr auto forever = std::chrono::steady_clock::time_point::max();
}  // namespace

namespace detail {

// Forwards each event to the hub and the observers, and reports run_started once.
class session_sink final : public engine::event_sink
{
public:
    std::function<void(const engine::run_event&)> on_started;
    std::shared_ptr<event_hub> hub;
    const std::vector<engine::event_sink*>* observers = nullptr;
    bool started = false;

    void on_event(const engine::run_event& ev) override
    {
        if (!started && ev.type == "run_started")
        {
            started = true;
            on_started(ev);
        }
        hub->on_event(ev);
        for (auto* o : *observers)
            o->on_event(ev);
    }
};

}  // namespace detail

struct run_registry::live_run
{
    live_run(asio::any_io_executor ex, std::size_t capacity)
        : hub(std::make_shared<event_hub>(ex, capacity)), wake(ex, forever)
    {
    }

    enum class operation { start, resume, approve, fork };

    std::string run_id;  // known from the start for resume/approve, from run_started for start/fork
    operation op = operation::start;
    std::shared_ptr<const prepared_workflow> workflow;  // start
    std::string source_run_id;                          // fork: the parent
    engine::approval_decision decision;                 // approve
    fork_options fork;                                  // fork
    run_options options;
    engine::run_control control;
    std::shared_ptr<event_hub> hub;
    detail::session_sink sink;
    bool started = false;
    bool finished = false;
    std::optional<runtime_error> failure;
    asio::steady_timer wake;  // start()/resume() wait here for started or finished
};

run_registry::run_registry(runtime& rt, std::size_t capacity) : rt_(rt), queue_capacity_(capacity) {}

run_registry::~run_registry() = default;

void run_registry::add_observer(engine::event_sink& sink) { observers_.push_back(&sink); }

std::shared_ptr<event_hub> run_registry::hub(const std::string& run_id) const
{
    auto it = runs_.find(run_id);
    return it == runs_.end() ? nullptr : it->second->hub;
}

std::size_t run_registry::subscribers() const
{
    std::size_t n = 0;
    for (const auto& [id, run] : runs_)
        n += run->hub->subscribers();
    return n;
}

bool run_registry::request_stop(const std::string& run_id)
{
    auto it = runs_.find(run_id);
    if (it == runs_.end())
        return false;
    it->second->control.request_stop();
    return true;
}

namespace {

// Runs one session to its end; the registry forgets it then. A free function (not a lambda)
// so that its arguments live in the coroutine frame.
asio::awaitable<void> drive_session(runtime& rt, std::shared_ptr<run_registry::live_run> run,
                                    std::function<void()> finished)
{
    // Two statements, not `?:` around two co_awaits: g++ 12 destroys the result twice then.
    using op = run_registry::live_run::operation;
    std::optional<result<engine::run_outcome>> r;
    if (run->op == op::start)
        r.emplace(co_await rt.run(run->workflow, run->sink, &run->control, run->options));
    else if (run->op == op::resume)
        r.emplace(co_await rt.resume(run->run_id, run->sink, &run->control, run->options));
    else if (run->op == op::approve)
        r.emplace(co_await rt.approve(run->run_id, run->decision, run->sink, &run->control, run->options));
    else
        r.emplace(co_await rt.fork(run->source_run_id, run->fork, run->sink, &run->control, run->options));
    if (!*r)
        run->failure = r->error();
    run->finished = true;
    run->hub->close();
    run->wake.cancel();
    finished();
}

}  // namespace

asio::awaitable<result<std::string>> run_registry::launch(std::shared_ptr<live_run> run)
{
    run->sink.hub = run->hub;
    run->sink.observers = &observers_;
    run->sink.on_started = [this, weak = std::weak_ptr<live_run>(run)](const engine::run_event& ev) {
        auto r = weak.lock();
        if (!r)
            return;
        r->run_id = ev.run_id;
        r->started = true;
        runs_[ev.run_id] = r;
        std::erase(starting_, r);
        r->wake.cancel();
    };
    auto on_finished = [this, weak = std::weak_ptr<live_run>(run)] {
        auto r = weak.lock();
        if (!r)
            return;
        if (auto it = runs_.find(r->run_id); it != runs_.end() && it->second == r)
            runs_.erase(it);
        std::erase(starting_, r);
        for (auto* w : idle_waiters_)
            w->cancel();
    };
    asio::co_spawn(co_await asio::this_coro::executor, drive_session(rt_, run, std::move(on_finished)),
                   asio::detached);
    while (!run->started && !run->finished)
    {
        run->wake.expires_at(forever);
        co_await run->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (run->started)
        co_return run->run_id;
    if (run->failure)
        co_return *run->failure;
    co_return runtime_error{runtime_errc::store_failed, "the run ended before it started", {}};
}

asio::awaitable<result<std::string>> run_registry::start(std::shared_ptr<const prepared_workflow> workflow,
                                                         run_options options)
{
    auto run = std::make_shared<live_run>(co_await asio::this_coro::executor, queue_capacity_);
    run->op = live_run::operation::start;
    run->workflow = std::move(workflow);
    run->options = std::move(options);
    starting_.push_back(run);
    co_return co_await launch(run);
}

asio::awaitable<result<std::string>> run_registry::resume(std::string run_id, run_options options)
{
    auto run = std::make_shared<live_run>(co_await asio::this_coro::executor, queue_capacity_);
    run->op = live_run::operation::resume;
    run->run_id = run_id;
    run->options = std::move(options);
    co_return co_await continue_known(run);
}

asio::awaitable<result<std::string>> run_registry::continue_known(std::shared_ptr<live_run> run)
{
    if (runs_.count(run->run_id))
        co_return runtime_error{runtime_errc::lease_held, "run " + run->run_id + " is already running in this process",
                                {}};
    // Known at once: an SSE subscriber may follow the continued session from its first event.
    runs_[run->run_id] = run;
    co_return co_await launch(run);
}

asio::awaitable<result<std::string>> run_registry::approve(std::string run_id, engine::approval_decision decision,
                                                           run_options options)
{
    auto run = std::make_shared<live_run>(co_await asio::this_coro::executor, queue_capacity_);
    run->op = live_run::operation::approve;
    run->run_id = std::move(run_id);
    run->decision = std::move(decision);
    run->options = std::move(options);
    co_return co_await continue_known(run);
}

asio::awaitable<result<std::string>> run_registry::fork(std::string run_id, fork_options fork, run_options options)
{
    auto run = std::make_shared<live_run>(co_await asio::this_coro::executor, queue_capacity_);
    run->op = live_run::operation::fork;
    run->source_run_id = std::move(run_id);
    run->fork = std::move(fork);
    run->options = std::move(options);
    starting_.push_back(run);
    co_return co_await launch(run);
}

asio::awaitable<std::vector<std::string>> run_registry::resume_owned()
{
    std::vector<std::string> resumed;
    const std::string me = rt_.owner();
    for (auto status : {ps::run_status::running, ps::run_status::pending})
    {
        run_query q;
        q.status = status;
        q.limit = 10000;
        auto found = co_await rt_.find_runs(q);
        if (!found)
        {
            rt_.logger()->error("cannot list the runs to resume: {}", found.error().message);
            co_return resumed;
        }
        for (const auto& r : found->runs)
        {
            if (r.owner != me || runs_.count(r.id))
                continue;
            run_options o;
            auto id = co_await resume(r.id, o);
            if (id)
            {
                rt_.logger()->info("resumed run {} (owned by {} before the restart)", r.id, me);
                resumed.push_back(*id);
            }
            else
                rt_.logger()->warn("cannot resume run {}: {}", r.id, id.error().message);
        }
    }
    co_return resumed;
}

asio::awaitable<void> run_registry::wait_idle()
{
    asio::steady_timer t(co_await asio::this_coro::executor, forever);
    idle_waiters_.push_back(&t);
    while (!runs_.empty() || !starting_.empty())
    {
        t.expires_at(forever);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::erase(idle_waiters_, &t);
}

asio::awaitable<void> run_registry::stop_all(std::chrono::milliseconds grace)
{
    for (auto& [id, run] : runs_)
        run->control.request_stop();
    for (auto& run : starting_)
        run->control.request_stop();
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::steady_clock::now() + grace);
    idle_waiters_.push_back(&t);
    while ((!runs_.empty() || !starting_.empty()) && std::chrono::steady_clock::now() < t.expiry())
    {
        // Woken by each run that finishes, or by the grace deadline.
        auto deadline = t.expiry();
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        t.expires_at(deadline);
    }
    std::erase(idle_waiters_, &t);
}

}  // namespace ep::runtime
