// workflow_executor::run: open (create or resume), schedule beside the lease heartbeat and the
// deferred running marks, then the run's final status.
#include "run/services.hpp"
#include "run/workspace_steps.hpp"

#include <ep/common/logging.hpp>
#include <ep/persistence/run_id.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ep::engine {

namespace ps = ep::persistence;
using asio::as_tuple;
using asio::use_awaitable;

void run_control::request_stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    if (on_stop_)
        on_stop_();
}

const phase_summary* run_outcome::find(const std::string& id) const
{
    for (const auto& p : phases)
        if (p.id == id)
            return &p;
    return nullptr;
}

workflow_executor::workflow_executor(ps::async_store& store, const policy& pol, candidate_fn candidates,
                                     failover_executor& failover, executor_options opts)
    : store_(store), policy_(pol), candidates_(std::move(candidates)), failover_(failover), opts_(std::move(opts)),
      log_(opts_.logger ? opts_.logger : ep::default_logger())
{
    if (opts_.owner.empty())
        opts_.owner = ps::default_owner();
    opts_.max_concurrency = std::clamp<std::size_t>(opts_.max_concurrency, 1, detail::run_state::max_in_flight);
}

namespace {

const char* completed_status(ps::run_status s)
{
    switch (s)
    {
    case ps::run_status::completed: return "succeeded";
    case ps::run_status::interrupted: return "cancelled";
    case ps::run_status::waiting: return "waiting";
    default: return "failed";
    }
}

void add_summary(run_outcome& out, const detail::instance_state& in)
{
    if (in.state != phase_state::pending && in.state != phase_state::running)
        out.phases.push_back(in.summary);
}

// How the run ended, from its phases: failures first, then waiting gates, then success.
run_outcome outcome_of(const detail::run_state& rs)
{
    run_outcome out;
    out.run_id = rs.run_id;
    bool bad = false, unfinished = false;
    for (std::size_t p = 0; p < rs.tracks.size(); ++p)
    {
        const auto& t = rs.tracks[p];
        if (rs.phase(p).for_each && t.state != phase_state::skipped)
            for (const auto& item : t.item_states)
                add_summary(out, item);
        detail::instance_state aggregate_view;  // a fan-out's own status (no instance of its own)
        const auto& shown = rs.phase(p).for_each ? aggregate_view : t.self;
        if (rs.phase(p).for_each)
        {
            aggregate_view.state = t.state;
            aggregate_view.summary = t.self.summary;
        }
        add_summary(out, shown);
        bad = bad || t.state == phase_state::failed || t.state == phase_state::cancelled;
        unfinished = unfinished || t.state == phase_state::pending || t.state == phase_state::running;
        if (t.state == phase_state::waiting)
            out.waiting.push_back(rs.phase(p).id);
    }
    for (const auto& l : rs.loops)
        bad = bad || l.exhausted;
    if (rs.interrupted || rs.lease_lost)
        out.status = ps::run_status::interrupted;
    else if (bad)
        out.status = ps::run_status::failed;
    else if (!out.waiting.empty())
        out.status = ps::run_status::waiting;
    else
        out.status = unfinished ? ps::run_status::failed : ps::run_status::completed;
    if (out.status == ps::run_status::interrupted)
        out.error = rs.lease_lost ? "the run's lease was taken over by another process" : "interrupted";
    else if (out.status == ps::run_status::waiting)
        out.error = "waiting for an approval of " + out.waiting.front();
    else
        out.error = rs.first_error;
    return out;
}

}  // namespace

asio::awaitable<ps::result<run_outcome>> workflow_executor::run(run_request req, event_sink& sink,
                                                                run_control* control)
{
    auto ex = co_await asio::this_coro::executor;
    if (!req.spec || !req.graph)
        co_return ps::store_error(ps::persistence_errc::invalid_argument, "run_request without spec or graph");
    detail::run_state rs(ex, req, sink);
    rs.owner = opts_.owner;
    detail::run_services sv{store_, policy_, candidates_, failover_, opts_, *log_};
    if (auto refused = co_await detail::check_workspace_request(sv, rs); !refused)
        co_return refused.error();
    if (auto opened = co_await detail::open_run(sv, rs); !opened)
        co_return opened.error();
    if (auto ws = co_await detail::open_workspace(sv, rs); !ws)
    {
        // The run exists now: it is recorded as failed (resumable once the cause is fixed).
        co_await store_.set_run_status(rs.run_id, ps::run_status::failed, ws.error().message);
        co_await store_.release_lease(rs.run_id, rs.owner);
        co_return ws.error();
    }

    auto started = events::run_started(rs.run_id, req.spec->name, rs.mix);
    sink.on_event(started);
    co_await store_.append_events(rs.run_id, detail::one_event(started));
    if (control)
    {
        control->on_stop_ = [&rs] {
            rs.interrupted = true;
            rs.cancel_in_flight("interrupted");
        };
        if (control->stopped_)
            rs.interrupted = true;
    }
    {
        using namespace asio::experimental::awaitable_operators;
        co_await (detail::schedule(sv, rs) || heartbeat(rs) || mark_running(rs));
    }
    if (control)
        control->on_stop_ = nullptr;
    co_return co_await finish_run(rs);
}

asio::awaitable<run_outcome> workflow_executor::finish_run(detail::run_state& rs)
{
    run_outcome out = outcome_of(rs);
    if (rs.work.ws)
        out.workspace = rs.work.ws->root().string();
    out.branch = rs.work.branch;
    if (!rs.lease_lost)  // otherwise the new owner decides the run's state now
    {
        // Entering `waiting` frees the lease in the same write.
        if (auto r = co_await store_.set_run_status(rs.run_id, out.status, out.error); !r)
            log_->error("run {}: cannot record the final status: {}", rs.run_id, r.error().to_string());
    }
    auto finished = events::run_completed(rs.run_id, completed_status(out.status));
    rs.sink.on_event(finished);
    co_await store_.append_events(rs.run_id, detail::one_event(finished));
    if (!rs.lease_lost && out.status != ps::run_status::waiting)
        co_await store_.release_lease(rs.run_id, rs.owner);
    co_return out;
}

asio::awaitable<void> workflow_executor::mark_running(detail::run_state& rs)
{
    // Beside the scheduler, like heartbeat(). One timer for the whole run, armed by the first
    // instance start while it is idle, so a chain of quick phases costs no timer work per phase.
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;)
    {
        auto [ec] = co_await rs.mark_timer.async_wait(as_tuple(use_awaitable));
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            co_return;
        if (ec)
            continue;  // re-armed by an instance start: wait for the new deadline
        const auto now = std::chrono::steady_clock::now();
        auto next = std::chrono::steady_clock::time_point::max();
        std::vector<detail::instance_ref> due;
        rs.for_each_running([&](const detail::instance_ref& ref, detail::instance_state& in) {
            if (in.marked_running || in.cancel_requested)
                return;
            const auto at = in.started_at + opts_.running_mark_delay;
            if (at <= now)
            {
                in.marked_running = true;
                due.push_back(ref);
            }
            else
                next = std::min(next, at);
        });
        rs.mark_timer.expires_at(next);  // max(): none pending; the next start re-arms it
        // A mark is queued only while its instance has not queued its checkpoint, and the writer
        // keeps the order: a mark never lands on top of a result.
        for (const auto& ref : due)
        {
            auto& in = rs.instance(ref);
            if (in.state != phase_state::running || in.checkpoint_queued)
                continue;
            const auto iteration = rs.tracks[ref.phase].iteration;
            std::optional<int> item;
            if (ref.item)
                item = static_cast<int>(*ref.item);
            if (auto r = co_await store_.begin_phase(rs.run_id, in.summary.id, iteration, item); !r)
                log_->warn("run {} phase {}: cannot mark it running: {}", rs.run_id, in.summary.id,
                           r.error().to_string());
        }
    }
}

asio::awaitable<void> workflow_executor::heartbeat(detail::run_state& rs)
{
    // Runs beside the scheduler until the `||` in run() cancels it; it must never return
    // earlier, or the scheduler would be cancelled with it.
    co_await asio::this_coro::throw_if_cancelled(false);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;)
    {
        timer.expires_after(rs.lease_lost ? std::chrono::hours(24) : opts_.heartbeat_interval);
        auto [ec] = co_await timer.async_wait(as_tuple(use_awaitable));
        auto st = co_await asio::this_coro::cancellation_state;
        if (ec || st.cancelled() != asio::cancellation_type::none)
            co_return;
        if (rs.lease_lost)
            continue;
        auto r = co_await store_.renew_lease(rs.run_id, rs.owner);
        if (!r && r.error().code == ps::persistence_errc::lease_held)
        {
            log_->error("run {}: lease lost ({}); stopping", rs.run_id, r.error().to_string());
            rs.lease_lost = true;
            rs.cancel_in_flight("the run was taken over by another process");
        }
        else if (!r)
            log_->warn("run {}: heartbeat failed: {}", rs.run_id, r.error().to_string());
    }
}

}  // namespace ep::engine
