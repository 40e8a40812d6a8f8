// The last step of an instance: its checkpoint, one store transaction holding the result, its
// attempts and its events (and, when completed, its conversation), then its summary, the spend
// and the result that dependents read.
#include "run/phase_steps.hpp"
#include "run/services.hpp"

#include <ep/engine/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;
namespace pv = ep::providers;

namespace {

ps::event_record conversation_record(const run_state& rs, const instance_ref& ref, const pv::conversation& conv)
{
    ps::event_record r;
    r.run_id = rs.run_id;
    r.ts = ps::now_ms();
    r.type = conversation_event_type;
    r.payload = {{"phase", rs.phase(ref.phase).id},
                 {"iteration", rs.tracks[ref.phase].iteration},
                 {"format", "openai"},
                 {"messages", pv::to_openai_messages(conv)}};
    if (ref.item)
        r.payload["item"] = *ref.item;
    return r;
}

ps::phase_record instance_row(const run_state& rs, const instance_ref& ref, const phase_answer& a)
{
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = rs.phase(ref.phase).id;
    rec.iteration = rs.tracks[ref.phase].iteration;
    if (ref.item)
        rec.item = static_cast<int>(*ref.item);
    rec.started = a.started;
    rec.finished = ps::now_ms();
    rec.attempts = static_cast<int>(a.attempts.size());
    // The last attempt that started names the provider, even for a failure.
    if (!a.attempts.empty())
    {
        rec.provider = a.attempts.back().provider;
        rec.model = a.attempts.back().model;
    }
    if (!a.provider.empty())
    {
        rec.provider = a.provider;
        rec.model = a.model;
    }
    rec.input_tokens = a.in_tokens;
    rec.output_tokens = a.out_tokens;
    rec.cost_usd = a.cost.value();
    return rec;
}

/// How long a checkpoint is retried while the store is unreachable or busy (a database restart,
/// a network blip) before the phase is failed; the first retry waits checkpoint_retry_first,
/// each next one twice as long, at most checkpoint_retry_max.
constexpr std::chrono::seconds checkpoint_retry_budget{30};
constexpr std::chrono::milliseconds checkpoint_retry_first{100};
constexpr std::chrono::milliseconds checkpoint_retry_max{2000};

bool transient(const ps::store_error& e)
{
    return e.code == ps::persistence_errc::io_error || e.code == ps::persistence_errc::busy;
}

// commit_phase, retried while the failure is transient. A retry refused with invalid_state
// (already completed) means the earlier attempt did commit before the connection broke (our
// fenced lease makes us the only writer): that is success.
asio::awaitable<ps::result<std::int64_t>> commit_with_retry(run_services& sv, const run_state& rs,
                                                            const ps::phase_record& rec,
                                                            const std::vector<ps::event_record>& events,
                                                            const std::vector<ps::attempt_record>& attempts)
{
    const auto give_up_at = std::chrono::steady_clock::now() + checkpoint_retry_budget;
    auto wait = checkpoint_retry_first;
    auto r = co_await sv.store.commit_phase(rec, events, attempts);
    bool retried = false;
    while (true)
    {
        if (r)
            co_return r;
        if (retried && r.error().code == ps::persistence_errc::invalid_state &&
            rec.status == ps::phase_status::completed)
            co_return ps::result<std::int64_t>(std::int64_t{0});
        if (!transient(r.error()) || std::chrono::steady_clock::now() + wait > give_up_at)
            co_return r;
        sv.log.warn("run {} phase {}: checkpoint failed ({}); retrying in {} ms", rs.run_id, rec.phase_id,
                    r.error().to_string(), wait.count());
        asio::steady_timer timer(co_await asio::this_coro::executor, wait);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return r;  // cancelled: report the store's failure
        wait = std::min(wait * 2, checkpoint_retry_max);
        retried = true;
        r = co_await sv.store.commit_phase(rec, events, attempts);
    }
}

// Commits a completed instance; on a store error the answer becomes a failure.
asio::awaitable<std::optional<run_event>> commit_completed(run_services& sv, run_state& rs, const instance_ref& ref,
                                                           phase_answer& a, phase_log& log, ps::phase_record& rec,
                                                           const std::vector<ps::attempt_record>& attempts)
{
    rec.status = ps::phase_status::completed;
    rec.output_text = a.output;
    rec.output_json = a.output_json;
    auto ev = events::phase_completed(rs.run_id, rec.phase_id, rec.provider, rec.model, a.in_tokens, a.out_tokens,
                                      a.cost.value(), a.output);
    tag(rs, ev, ref.phase, ref.item);
    log.add(ev);
    log.events.push_back(conversation_record(rs, ref, a.conversation));
    if (auto committed = co_await commit_with_retry(sv, rs, rec, log.events, attempts); !committed)
    {
        a.end = phase_end::failed;
        a.failure = {workflow_errc::checkpoint_failed, "cannot save the phase result: " + committed.error().to_string()};
        sv.log.error("run {} phase {}: {}", rs.run_id, rec.phase_id, a.failure.message);
        log.events.clear();  // rolled back; the failure is recorded instead
        if (committed.error().code == ps::persistence_errc::lease_held && !rs.lease_lost)
        {
            // Fenced out: another process reclaimed the run (we were presumed dead). It owns the
            // run's state from now on; stop without writing anything more.
            rs.lease_lost = true;
            rs.cancel_in_flight("the run was taken over by another process");
        }
        co_return std::nullopt;
    }
    co_return ev;
}

void update_summary(run_state& rs, const instance_ref& ref, phase_answer& a, const ps::phase_record& rec)
{
    auto& in = rs.instance(ref);
    auto& sum = in.summary;
    sum.status = rec.status;
    sum.provider = rec.provider;
    sum.model = rec.model;
    sum.error = a.failure.message;
    sum.error_code = a.failure.code;
    sum.input_tokens = a.in_tokens;
    sum.output_tokens = a.out_tokens;
    sum.cost_usd = a.cost.value();
    rs.spent_cost += a.cost.known_usd;
    rs.spent_tokens += a.in_tokens + a.out_tokens;
    if (a.end == phase_end::completed)
    {
        sum.output = a.output;
        if (!ref.item)
            set_result(rs, ref.phase, {a.output, a.output_json});
        rs.conversations[rec.phase_id] = std::move(a.conversation);
        in.state = phase_state::completed;
    }
    else
        in.state = a.end == phase_end::cancelled ? phase_state::cancelled : phase_state::failed;
}

}  // namespace

asio::awaitable<void> checkpoint_instance(run_services& sv, run_state& rs, const instance_ref& ref,
                                          phase_answer& a, phase_log& log)
{
    rs.instance(ref).checkpoint_queued = true;  // no "running" mark may follow (mark_running)
    ps::phase_record rec = instance_row(rs, ref, a);
    const auto attempts = to_store_attempts(rs, ref, a.attempts);
    std::optional<run_event> final_event;
    if (a.end == phase_end::completed)
        final_event = co_await commit_completed(sv, rs, ref, a, log, rec, attempts);
    if (a.end != phase_end::completed)
    {
        if (a.end == phase_end::cancelled)
            a.failure = {workflow_errc::cancelled,
                         "cancelled: " + (rs.stop_reason.empty() ? std::string("interrupted") : rs.stop_reason)};
        rec.status = a.end == phase_end::cancelled ? ps::phase_status::cancelled : ps::phase_status::failed;
        rec.error = a.failure.message;
        rec.output_text.clear();
        rec.output_json.reset();
        final_event = events::phase_failed(rs.run_id, rec.phase_id, a.failure.message);
        tag(rs, *final_event, ref.phase, ref.item);
        log.add(*final_event);
        if (auto r = co_await commit_with_retry(sv, rs, rec, log.events, attempts); !r)
            sv.log.error("run {} phase {}: cannot record the failure: {}", rs.run_id, rec.phase_id,
                         r.error().to_string());
    }
    rs.sink.on_event(*final_event);
    update_summary(rs, ref, a, rec);
}

}  // namespace ep::engine::detail
