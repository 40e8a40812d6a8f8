// The worker pool: a claimer thread (run_queue: claims, LISTEN) feeds runs to the io_context
// thread, which runs them through runtime::resume, `concurrency` at a time; signals drain it.
#include <ep/worker/worker.hpp>

#include <ep/common/logging.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/run/event_loop.hpp>
#include <ep/persistence/run_id.hpp>
#include <ep/persistence/run_queue.hpp>
#include <ep/runtime/runtime.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/logger.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

namespace ep::worker {

namespace asio = boost::asio;
namespace ps = ep::persistence;

namespace {

/// How long an idle claimer sleeps at most between claims when no NOTIFY arrives: it bounds
/// how late an expired lease (which notifies nobody) or a stop request is noticed.
constexpr std::chrono::milliseconds max_idle_wait{1000};
/// After a failed claim (database unreachable, e.g. restarting): wait before trying again.
constexpr std::chrono::milliseconds retry_after_store_error{500};

class null_sink final : public engine::event_sink
{
public:
    void on_event(const engine::run_event&) override {}
};

// Free run slots, shared by the claimer thread (takes) and the io thread (gives back).
struct slots
{
    std::mutex m;
    std::condition_variable cv;
    std::size_t free = 0;
    bool stopping = false;

    // Blocks until a slot is free (true, slot taken) or stopping (false).
    bool take()
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return free > 0 || stopping; });
        if (stopping)
            return false;
        --free;
        return true;
    }
    void give_back()
    {
        {
            std::lock_guard lock(m);
            ++free;
        }
        cv.notify_all();
    }
    void stop()
    {
        {
            std::lock_guard lock(m);
            stopping = true;
        }
        cv.notify_all();
    }
    bool is_stopping()
    {
        std::lock_guard lock(m);
        return stopping;
    }
    // Sleeps up to `d` unless stopping.
    void pause(std::chrono::milliseconds d)
    {
        std::unique_lock lock(m);
        cv.wait_for(lock, d, [&] { return stopping; });
    }
};

class pool
{
public:
    pool(const worker_options& o, const ep::environment& env, std::ostream& err,
         std::unique_ptr<ps::run_queue> claims, std::unique_ptr<ps::run_queue> requeue)
        : opts_(o), err_(err), claims_(std::move(claims)), requeue_(std::move(requeue)),
          guard_(asio::make_work_guard(ioc_)), rt_(ioc_.get_executor(), config_for(o, env)), signals_(ioc_, SIGINT, SIGTERM),
          drain_timer_(ioc_)
    {
        owner_ = o.id.empty() ? ps::default_owner() : o.id;
        slots_.free = std::max<std::size_t>(o.concurrency, 1);
    }

    int run()
    {
        rt_.logger()->info("worker {} claiming runs of {} ({} at a time, lease ttl {} ms)", owner_,
                           ps::redact_store_uri(rt_.store_location()), slots_.free, opts_.lease_ttl.count());
        arm_signals();
        std::thread claimer([this] { claim_loop(); });
        engine::run_event_loop(ioc_, [this] { return rt_.store_call_in_flight(); });
        slots_.stop();
        claimer.join();
        return exit_code_;
    }

private:
    static runtime::runtime_config config_for(const worker_options& o, const ep::environment& env)
    {
        runtime::runtime_config cfg;
        cfg.env = env;
        std::error_code ec;  // the shipped workflows next to the installed binary, as ep-run finds them
        cfg.workflows_dir = engine::find_workflows_dir(env, std::filesystem::read_symlink("/proc/self/exe", ec));
        cfg.personas_file = o.personas_file;
        cfg.store = o.db;
        cfg.program = "ep-worker";
        cfg.executor.owner = o.id.empty() ? ps::default_owner() : o.id;
        cfg.executor.lease_ttl = o.lease_ttl;
        cfg.executor.heartbeat_interval = heartbeat_for(o.lease_ttl);
        return cfg;
    }

    // ---- the claimer thread ------------------------------------------------------------------

    void claim_loop()
    {
        while (slots_.take())
        {
            auto claimed = claims_->claim(owner_, opts_.lease_ttl);
            if (claimed && *claimed)
            {
                asio::post(ioc_, [this, c = std::move(**claimed)] { start(c); });
                continue;
            }
            slots_.give_back();
            if (!claimed)
            {
                log_from_thread("claim failed: " + claimed.error().to_string());
                slots_.pause(retry_after_store_error);
                continue;
            }
            if (opts_.exit_when_idle)
            {
                asio::post(ioc_, [this] { idle_ = true; maybe_finish(); });
                slots_.pause(max_idle_wait);
                continue;
            }
            const auto wait = std::min(max_idle_wait, opts_.lease_ttl / 2);
            if (auto woke = claims_->wait_for_work(wait); !woke)
            {
                log_from_thread("waiting for work failed: " + woke.error().to_string());
                slots_.pause(retry_after_store_error);
            }
        }
    }

    void log_from_thread(const std::string& what)
    {
        asio::post(ioc_, [this, what] { rt_.logger()->warn("{}", what); });
    }

    // ---- the io thread -----------------------------------------------------------------------

    void start(const ps::run_claim& c)
    {
        idle_ = false;
        if (stopping_)  // claimed just before the stop: give it back at once
        {
            release_unstarted(c.run_id);
            slots_.give_back();
            maybe_finish();
            return;
        }
        rt_.logger()->info("run {}: claimed (fence {}, runnable for {} ms{})", c.run_id, c.fence, c.waited.count(),
                           c.reclaimed ? ", reclaimed from an expired lease" : "");
        ++in_flight_;
        asio::co_spawn(ioc_, execute(c.run_id), asio::detached);
    }

    asio::awaitable<void> execute(std::string run_id)
    {
        engine::run_control control;
        controls_[run_id] = &control;
        null_sink sink;
        runtime::run_options ropts;
        auto r = co_await rt_.resume(run_id, sink, &control, ropts);
        controls_.erase(run_id);
        finished(run_id, r);
        --in_flight_;
        ++done_;
        slots_.give_back();
        maybe_finish();
    }

    void finished(const std::string& run_id, const runtime::result<engine::run_outcome>& r)
    {
        auto& log = *rt_.logger();
        if (!r)
        {
            // Not ours to fix here: a run whose stored definition no longer loads would be claimed
            // forever, so say so loudly; a store error leaves the lease to expire and be reclaimed.
            log.error("run {}: not run: {}", run_id, r.error().message);
            return;
        }
        log.info("run {}: {}{}{}", run_id, ps::to_string(r->status), r->error.empty() ? "" : ": ", r->error);
        if (r->status == ps::run_status::interrupted && drained_)
            if (auto q = requeue_->requeue(run_id); !q)
                log.warn("run {}: cannot put it back for another worker: {}", run_id, q.error().to_string());
    }

    void release_unstarted(const std::string& run_id)
    {
        // The claim set owner and heartbeat only: the heartbeat expires and another worker takes
        // it within the lease ttl. (Releasing needs the fence the claim got, which the store the
        // runtime owns never saw.)
        rt_.logger()->info("run {}: claimed while stopping; left to expire for another worker", run_id);
    }

    void arm_signals()
    {
        signals_.async_wait([this](boost::system::error_code ec, int) {
            if (ec)
                return;
            if (stopping_)
                std::_Exit(130);  // second signal: the leases expire and other workers reclaim the runs
            err_ << "ep-worker: stopping: no new claims; " << in_flight_ << " run(s) in flight get "
                 << opts_.drain_timeout.count() << " ms to finish (again to quit now)\n";
            arm_signals();  // before begin_stop: with nothing in flight it cancels this wait at once
            begin_stop();
        });
    }

    void begin_stop()
    {
        stopping_ = true;
        slots_.stop();
        drain_timer_.expires_after(opts_.drain_timeout);
        drain_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            drained_ = true;
            for (auto& [id, control] : controls_)
                control->request_stop();  // recorded cancelled; finished() requeues the run
        });
        maybe_finish();
    }

    void maybe_finish()
    {
        if (!stopping_ && opts_.max_runs > 0 && done_ >= opts_.max_runs)
            begin_stop();
        if (!stopping_ && opts_.exit_when_idle && idle_ && in_flight_ == 0)
            begin_stop();
        if (stopping_ && in_flight_ == 0)
        {
            drain_timer_.cancel();
            boost::system::error_code ignored;
            signals_.cancel(ignored);
            guard_.reset();
        }
    }

    const worker_options& opts_;
    std::ostream& err_;
    std::unique_ptr<ps::run_queue> claims_;   // the claimer thread's
    std::unique_ptr<ps::run_queue> requeue_;  // the io thread's
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    runtime::runtime rt_;
    asio::signal_set signals_;
    asio::steady_timer drain_timer_;
    std::string owner_;
    slots slots_;
    std::map<std::string, engine::run_control*> controls_;
    std::size_t in_flight_ = 0;
    std::size_t done_ = 0;
    bool stopping_ = false;
    bool drained_ = false;
    bool idle_ = false;
    int exit_code_ = 0;
};

}  // namespace

std::chrono::milliseconds heartbeat_for(std::chrono::milliseconds lease_ttl)
{
    return std::max(lease_ttl / 6, std::chrono::milliseconds(10));
}

int run_worker(const worker_options& options, const ep::environment& env, std::ostream& err)
{
    const std::string db = !options.db.empty() ? options.db : env.get("EP_DB").value_or("");
    if (db.empty())
    {
        err << "ep-worker: no store: give --db postgres://… (or set EP_DB)\n";
        return 2;
    }
    std::unique_ptr<ps::run_queue> queues[2];
    for (auto& q : queues)
    {
        auto opened = ps::run_queue::open(db);
        if (!opened)
        {
            err << "ep-worker: " << opened.error().message << "\n";
            return 2;
        }
        q = std::move(*opened);
    }
    worker_options o = options;
    o.db = db;
    pool p(o, env, err, std::move(queues[0]), std::move(queues[1]));
    return p.run();
}

}  // namespace ep::worker
