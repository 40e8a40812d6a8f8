// The scheduler: an instance starts as soon as the phases it needs are settled (never level by
// level), its `when` holds, and there is room; completions come back through rs.done. Skips
// are decided here, lazily, from the needs' statuses.
#include "run/services.hpp"

#include <ep/engine/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

namespace {

bool stopped(const run_state& rs) { return rs.interrupted || rs.fail_fast_fired || rs.lease_lost; }

// What the needs of a pending phase say: wait, skip (with why), or go.
struct needs_verdict
{
    enum class kind { wait, skip, go } what = kind::go;
    std::string reason;
};

std::string failed_need_reason(const run_state& rs, std::size_t need)
{
    if (auto l = rs.graph.innermost_loop(need); l && rs.loops[*l].exhausted)
        return "needs '" + rs.phase(need).id + "', whose loop ended without its `until` holding";
    return "needs '" + rs.phase(need).id + "', which failed";
}

needs_verdict check_needs(const run_state& rs, std::size_t p)
{
    const auto& ph = rs.phase(p);
    bool any_completed = false;
    std::optional<std::size_t> skipped, failed;
    for (auto d : rs.graph.needs(p))
    {
        switch (status_of_need(rs, d, p))
        {
        case need_status::waiting: return {needs_verdict::kind::wait, {}};
        case need_status::completed: any_completed = true; break;
        case need_status::skipped: skipped = skipped.value_or(d); break;
        case need_status::failed: failed = failed.value_or(d); break;
        }
    }
    if (ph.needs_any)
        return any_completed ? needs_verdict{} : needs_verdict{needs_verdict::kind::skip, "none of its needs completed"};
    if (failed)
        return {needs_verdict::kind::skip, failed_need_reason(rs, *failed)};
    if (skipped)
    {
        // A need skipped because something upstream failed passes that cause on.
        const auto& cause = rs.tracks[*skipped].self.summary.error;
        if (cause.rfind("needs '", 0) == 0 && cause.find("failed") != std::string::npos)
            return {needs_verdict::kind::skip, "upstream phase '" + rs.phase(*skipped).id + "' was skipped (" + cause + ")"};
        return {needs_verdict::kind::skip, "needs '" + rs.phase(*skipped).id + "', which was skipped"};
    }
    return {};
}

void start_instance(run_services& sv, run_state& rs, instance_ref ref)
{
    auto& in = rs.instance(ref);
    in.state = phase_state::running;
    in.started_at = std::chrono::steady_clock::now();
    in.summary.id = rs.phase(ref.phase).id;
    in.summary.iteration = rs.tracks[ref.phase].iteration;
    in.summary.item = ref.item ? std::optional<int>(static_cast<int>(*ref.item)) : std::nullopt;
    if (rs.mark_timer.expiry() == std::chrono::steady_clock::time_point::max())
        rs.mark_timer.expires_at(in.started_at + sv.opts.running_mark_delay);  // wakes mark_running
    ++rs.in_flight;
    asio::co_spawn(rs.done.get_executor(), run_instance(sv, rs, ref),
                   asio::bind_cancellation_slot(in.signal->slot(), [&rs, ref](std::exception_ptr e) {
                       if (e)
                       {
                           // A bug or bad_alloc inside the runner: the instance is failed, the run
                           // goes on (and stays resumable).
                           auto& failed = rs.instance(ref);
                           failed.state = phase_state::failed;
                           failed.summary.status = ps::phase_status::failed;
                           failed.summary.error_code = workflow_errc::internal_error;
                           try
                           {
                               std::rethrow_exception(e);
                           }
                           catch (const std::exception& ex)
                           {
                               failed.summary.error = std::string("internal error: ") + ex.what();
                           }
                           catch (...)
                           {
                               failed.summary.error = "internal error";
                           }
                       }
                       rs.done.try_send(boost::system::error_code{}, ref);
                   }));
}

// A pending phase whose needs are settled: skip it, fail it, wait at its gate, expand it, or start it.
asio::awaitable<bool> begin_phase_pass(run_services& sv, run_state& rs, std::size_t p)
{
    const auto& ph = rs.phase(p);
    auto verdict = check_needs(rs, p);
    if (verdict.what == needs_verdict::kind::wait)
        co_return false;
    if (verdict.what == needs_verdict::kind::skip)
    {
        co_await commit_skip(sv, rs, p, std::move(verdict.reason));
        co_return true;
    }
    if (ph.when)
    {
        std::string why;
        auto v = rs.spec.expressions.evaluate(ph.when_expr, run_document(rs, p), &why);
        if (!v)
        {
            // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
            std::string message = "when: " + why;
            co_await commit_phase_failure(sv, rs, p, workflow_errc::expression_failed, std::move(message));
            co_return true;
        }
        if (!is_truthy(v->value))
        {
            // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
            std::string reason = "when '" + ph.when->value + "' is " + v->value.dump();
            co_await commit_skip(sv, rs, p, std::move(reason));
            co_return true;
        }
    }
    if (ph.kind == phase_kind::approval)
    {
        co_await reach_gate(sv, rs, p);
        co_return true;
    }
    if (ph.for_each)
    {
        co_await expand_items(sv, rs, p);
        co_return true;
    }
    if (rs.in_flight >= sv.opts.max_concurrency)
        co_return false;
    rs.tracks[p].state = phase_state::running;
    start_instance(sv, rs, instance_ref{p, std::nullopt});
    co_return true;
}

// One step for phase `p`; true when something changed.
asio::awaitable<bool> advance_phase(run_services& sv, run_state& rs, std::size_t p)
{
    auto& t = rs.tracks[p];
    if (t.state == phase_state::pending)
        co_return co_await begin_phase_pass(sv, rs, p);
    if (t.state != phase_state::running || !rs.phase(p).for_each)
        co_return false;
    const std::size_t room = sv.opts.max_concurrency - std::min(sv.opts.max_concurrency, rs.in_flight);
    const auto items = startable_items(rs, p, room);
    for (auto i : items)
    {
        ++t.items_started;
        ++t.items_running;
        start_instance(sv, rs, instance_ref{p, i});
    }
    if (items.empty() && t.items_finished == t.items.size())
    {
        co_await finish_fan_out(sv, rs, p);  // an empty array, or a resume that had every item
        co_return true;
    }
    co_return !items.empty();
}

asio::awaitable<void> advance(run_services& sv, run_state& rs)
{
    for (bool progress = true; progress && !stopped(rs);)
    {
        progress = false;
        for (auto p : rs.graph.order())
            if (co_await advance_phase(sv, rs, p))
                progress = true;
    }
}

asio::awaitable<void> on_instance_done(run_services& sv, run_state& rs, instance_ref ref)
{
    auto& t = rs.tracks[ref.phase];
    if (!ref.item)
    {
        t.state = t.self.state;
        co_await on_phase_finished(sv, rs, ref.phase);
        co_return;
    }
    --t.items_running;
    ++t.items_finished;
    const auto& item = t.item_states[*ref.item];
    if (item.state == phase_state::failed && sv.opts.fail_fast && !rs.fail_fast_fired)
    {
        rs.fail_fast_fired = true;
        rs.cancel_in_flight("fail-fast: phase '" + item.summary.id + "' item " + std::to_string(*ref.item) + " failed");
    }
    if (t.items_finished == t.items.size() || (stopped(rs) && t.items_running == 0))
        co_await finish_fan_out(sv, rs, ref.phase);
}

}  // namespace

asio::awaitable<void> on_phase_finished(run_services& sv, run_state& rs, std::size_t p)
{
    const auto& t = rs.tracks[p];
    if (t.state == phase_state::failed || t.state == phase_state::cancelled)
    {
        if (rs.first_error.empty() && t.state == phase_state::failed)
            rs.first_error = "phase '" + rs.phase(p).id + "' failed: " + t.self.summary.error;
        if (sv.opts.fail_fast && !rs.fail_fast_fired && t.state == phase_state::failed)
        {
            rs.fail_fast_fired = true;
            rs.cancel_in_flight("fail-fast: phase '" + rs.phase(p).id + "' failed");
        }
        co_return;
    }
    if (rs.phase(p).repeat && (t.state == phase_state::completed || t.state == phase_state::skipped))
    {
        if (t.state == phase_state::skipped)
        {
            // A skipped owner ends its loop: there is no pass to judge.
            if (auto l = rs.graph.loop_of_owner(p))
                rs.loops[*l].finished = true;
            co_return;
        }
        co_await after_loop_pass(sv, rs, p);
    }
}

asio::awaitable<void> schedule(run_services& sv, run_state& rs)
{
    co_await advance(sv, rs);
    while (rs.in_flight > 0)
    {
        auto [ec, ref] = co_await rs.done.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec)
            break;  // cannot happen: nobody closes the channel
        --rs.in_flight;
        co_await on_instance_done(sv, rs, ref);
        co_await advance(sv, rs);
    }
    if (rs.fail_fast_fired)
        for (std::size_t p = 0; p < rs.tracks.size(); ++p)
            if (rs.tracks[p].state == phase_state::pending)
                co_await commit_skip(sv, rs, p, rs.stop_reason);
}

}  // namespace ep::engine::detail
