// The scheduler: run creation/resume, the ready-phase loop, skips, fail-fast, the lease
// heartbeat and the run's final status.
#include "run/run_state.hpp"

#include <ep/common/logging.hpp>
#include <ep/persistence/run_id.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <deque>

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
    if (opts_.max_concurrency == 0)
        opts_.max_concurrency = 1;
}

namespace {

const char* completed_status(ps::run_status s)
{
    switch (s)
    {
    case ps::run_status::completed: return "succeeded";
    case ps::run_status::interrupted: return "cancelled";
    default: return "failed";
    }
}

}  // namespace

asio::awaitable<ps::result<run_outcome>> workflow_executor::run(run_request req, event_sink& sink,
                                                                run_control* control)
{
    auto ex = co_await asio::this_coro::executor;
    if (!req.spec || !req.graph)
        co_return ps::store_error(ps::persistence_errc::invalid_argument, "run_request without spec or graph");
    const std::size_t n = req.spec->phases.size();
    detail::run_state rs(ex, req, sink, n);
    rs.owner = opts_.owner;

    if (!req.resume_run_id.empty())
    {
        auto leased = co_await store_.acquire_lease(req.resume_run_id, rs.owner, opts_.lease_ttl);
        if (!leased)
            co_return leased.error();
        rs.run_id = leased->id;
        rs.mix = leased->mix;
        if (!req.mix.empty() && req.mix != leased->mix)
        {
            if (auto r = co_await store_.set_run_mix(rs.run_id, req.mix); !r)
                co_return r.error();
            rs.mix = req.mix;
        }
        if (auto r = co_await store_.set_run_status(rs.run_id, ps::run_status::running); !r)
            co_return r.error();
        if (leased->inputs.is_object())
            for (auto it = leased->inputs.begin(); it != leased->inputs.end(); ++it)
                rs.context.inputs[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();

        auto phases = co_await store_.get_phases(rs.run_id);
        if (!phases)
            co_return phases.error();
        for (const auto& p : *phases)
        {
            const auto idx = req.graph->index_of(p.phase_id);
            if (!idx || p.status != ps::phase_status::completed)
                continue;  // anything not completed runs again
            rs.states[*idx] = phase_state::completed;
            auto& s = rs.summaries[*idx];
            s.status = p.status;
            s.provider = p.provider;
            s.model = p.model;
            s.input_tokens = p.input_tokens;
            s.output_tokens = p.output_tokens;
            s.cost_usd = p.cost_usd;
            s.from_checkpoint = true;
            s.output = p.output_text;
            if (p.started && p.finished)
                s.duration = *p.finished - *p.started;
            rs.context.phases[p.phase_id] = {p.output_text, p.output_json};
        }
        auto evs = co_await store_.get_events(rs.run_id);
        if (!evs)
            co_return evs.error();
        for (const auto& e : *evs)
        {
            if (e.type != conversation_event_type)
                continue;
            const auto phase = e.payload.value("phase", std::string{});
            auto conv = providers::from_openai_messages(e.payload.value("messages", nlohmann::json::array()));
            if (conv && !phase.empty())
                rs.conversations[phase] = std::move(*conv);
        }
    }
    else
    {
        ps::run_record rec;
        rec.workflow = req.spec->name;
        rec.definition = req.definition;
        rec.inputs = nlohmann::json::object();
        for (const auto& [k, v] : req.inputs)
            rec.inputs[k] = v;
        rec.mix = req.mix;
        rec.status = ps::run_status::running;
        rec.owner = rs.owner;
        auto created = co_await store_.create_run(std::move(rec));
        if (!created)
            co_return created.error();
        rs.run_id = created->id;
        rs.mix = created->mix;
        rs.context.inputs = req.inputs;
    }

    // Inputs the caller did not bind (library use, or a run stored before a default was
    // added) take the workflow's defaults, as bind_inputs would have.
    for (const auto& in : req.spec->inputs)
        if (in.default_value && !rs.context.inputs.count(in.name))
            rs.context.inputs[in.name] =
                in.default_value->is_string() ? in.default_value->get<std::string>() : in.default_value->dump();

    auto started = events::run_started(rs.run_id, req.spec->name, rs.mix);
    sink.on_event(started);
    co_await store_.append_events(rs.run_id, one_event(started));

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
        co_await (schedule(rs) || heartbeat(rs) || mark_running(rs));
    }
    if (control)
        control->on_stop_ = nullptr;

    run_outcome out;
    out.run_id = rs.run_id;
    bool any_bad = false;
    for (std::size_t i = 0; i < n; ++i)
    {
        if (rs.states[i] == phase_state::pending || rs.states[i] == phase_state::running)
            continue;
        any_bad = any_bad || rs.states[i] != phase_state::completed;
        out.phases.push_back(rs.summaries[i]);
    }
    const bool all_done = std::all_of(rs.states.begin(), rs.states.end(),
                                      [](phase_state s) { return s == phase_state::completed; });
    if (rs.interrupted || rs.lease_lost)
        out.status = ps::run_status::interrupted;
    else if (any_bad || !all_done)
        out.status = ps::run_status::failed;
    else
        out.status = ps::run_status::completed;
    out.error = out.status == ps::run_status::interrupted
                    ? (rs.lease_lost ? "the run's lease was taken over by another process" : "interrupted")
                    : rs.first_error;

    if (!rs.lease_lost)  // the new owner decides the run's state now
    {
        if (auto r = co_await store_.set_run_status(rs.run_id, out.status, out.error); !r)
            log_->error("run {}: cannot record the final status: {}", rs.run_id, r.error().to_string());
    }
    auto finished = events::run_completed(rs.run_id, completed_status(out.status));
    sink.on_event(finished);
    co_await store_.append_events(rs.run_id, one_event(finished));
    if (!rs.lease_lost)
        co_await store_.release_lease(rs.run_id, rs.owner);
    co_return out;
}

asio::awaitable<void> workflow_executor::schedule(detail::run_state& rs)
{
    const auto& g = rs.graph;
    auto start_ready = [&] {
        if (rs.interrupted || rs.fail_fast_fired || rs.lease_lost)
            return;
        for (const auto idx : g.order())
        {
            if (rs.in_flight >= opts_.max_concurrency)
                return;
            if (rs.states[idx] != phase_state::pending)
                continue;
            const auto& needs = g.needs(idx);
            if (!std::all_of(needs.begin(), needs.end(),
                             [&](std::size_t d) { return rs.states[d] == phase_state::completed; }))
                continue;
            rs.states[idx] = phase_state::running;
            rs.started_at[idx] = std::chrono::steady_clock::now();
            if (rs.mark_timer.expiry() == std::chrono::steady_clock::time_point::max())
            {
                // Wakes mark_running, which waits for this deadline instead.
                rs.mark_timer.expires_at(rs.started_at[idx] + opts_.running_mark_delay);
            }
            ++rs.in_flight;
            asio::co_spawn(rs.done.get_executor(), run_phase(rs, idx),
                           asio::bind_cancellation_slot(rs.signals[idx]->slot(), [&rs, idx](std::exception_ptr e) {
                               if (e)
                               {
                                   // A bug or bad_alloc inside the runner: the phase is failed, the
                                   // run goes on (and stays resumable).
                                   rs.states[idx] = phase_state::failed;
                                   rs.summaries[idx].status = ps::phase_status::failed;
                                   try
                                   {
                                       std::rethrow_exception(e);
                                   }
                                   catch (const std::exception& ex)
                                   {
                                       rs.summaries[idx].error = std::string("internal error: ") + ex.what();
                                   }
                                   catch (...)
                                   {
                                       rs.summaries[idx].error = "internal error";
                                   }
                               }
                               rs.done.try_send(boost::system::error_code{}, idx);
                           }));
        }
    };

    start_ready();
    while (rs.in_flight > 0)
    {
        auto [ec, idx] = co_await rs.done.async_receive(as_tuple(use_awaitable));
        if (ec)
            break;  // cannot happen: nobody closes the channel
        --rs.in_flight;
        if (rs.states[idx] == phase_state::failed)
        {
            const auto& id = rs.summaries[idx].id;
            if (rs.first_error.empty())
                rs.first_error = "phase '" + id + "' failed: " + rs.summaries[idx].error;
            co_await skip_dependents(rs, idx);
            if (opts_.fail_fast && !rs.fail_fast_fired)
            {
                rs.fail_fast_fired = true;
                rs.cancel_in_flight("fail-fast: phase '" + id + "' failed");
            }
        }
        start_ready();
    }

    if (rs.fail_fast_fired)
        for (std::size_t i = 0; i < rs.states.size(); ++i)
            if (rs.states[i] == phase_state::pending)
            {
                const std::string reason = rs.stop_reason;
                co_await commit_skip(rs, i, reason);
            }
}

asio::awaitable<void> workflow_executor::skip_dependents(detail::run_state& rs, std::size_t failed)
{
    const auto& failed_id = rs.summaries[failed].id;
    std::deque<std::size_t> queue(rs.graph.dependents(failed).begin(), rs.graph.dependents(failed).end());
    while (!queue.empty())
    {
        const auto d = queue.front();
        queue.pop_front();
        if (rs.states[d] != phase_state::pending)
            continue;
        const bool direct = std::find(rs.graph.needs(d).begin(), rs.graph.needs(d).end(), failed) !=
                            rs.graph.needs(d).end();
        // Named, not a ?: temporary inside the co_await: g++ 12 destroys such temporaries twice.
        std::string reason = direct ? "needs '" + failed_id + "', which failed"
                                    : "upstream phase '" + failed_id + "' failed";
        co_await commit_skip(rs, d, reason);
        for (auto next : rs.graph.dependents(d))
            queue.push_back(next);
    }
}

asio::awaitable<void> workflow_executor::commit_skip(detail::run_state& rs, std::size_t idx, const std::string& reason)
{
    rs.states[idx] = phase_state::skipped;
    auto& s = rs.summaries[idx];
    s.status = ps::phase_status::skipped;
    s.error = reason;
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = s.id;
    rec.status = ps::phase_status::skipped;
    rec.error = reason;
    rec.finished = ps::now_ms();
    auto ev = events::phase_skipped(rs.run_id, s.id, reason);
    if (auto r = co_await store_.commit_phase(std::move(rec), one_event(ev)); !r)
        log_->error("run {}: cannot record skipped phase {}: {}", rs.run_id, s.id, r.error().to_string());
    rs.sink.on_event(ev);
}

asio::awaitable<void> workflow_executor::mark_running(detail::run_state& rs)
{
    // Beside the scheduler, like heartbeat(). One timer for the whole run, armed by the first
    // phase start while it is idle, so a chain of quick phases costs no timer work per phase.
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;)
    {
        auto [ec] = co_await rs.mark_timer.async_wait(as_tuple(use_awaitable));
        auto st = co_await asio::this_coro::cancellation_state;
        if (st.cancelled() != asio::cancellation_type::none)
            co_return;
        if (ec)
            continue;  // re-armed by a phase start: wait for the new deadline
        const auto now = std::chrono::steady_clock::now();
        auto next = std::chrono::steady_clock::time_point::max();
        std::vector<std::size_t> due;
        for (std::size_t i = 0; i < rs.states.size(); ++i)
        {
            if (rs.states[i] != phase_state::running || rs.marked_running[i] || rs.cancel_requested[i])
                continue;
            const auto at = rs.started_at[i] + opts_.running_mark_delay;
            if (at <= now)
            {
                rs.marked_running[i] = true;
                due.push_back(i);
            }
            else
                next = std::min(next, at);
        }
        rs.mark_timer.expires_at(next);  // max(): none pending; the next phase start re-arms it
        // A mark is queued only while its phase has not queued its checkpoint, and the writer
        // keeps the order: a mark never lands on top of a result.
        for (const auto i : due)
        {
            if (rs.states[i] != phase_state::running || rs.checkpoint_queued[i])
                continue;
            if (auto r = co_await store_.begin_phase(rs.run_id, rs.summaries[i].id); !r)
                log_->warn("run {} phase {}: cannot mark it running: {}", rs.run_id, rs.summaries[i].id,
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
