// The last step of a phase: its checkpoint, one store transaction holding the result, its
// attempts and its events (and, for a completed phase, its conversation), then the summary and
// the run's context that dependents read.
#include "run/phase_steps.hpp"
#include "run/run_state.hpp"

#include <ep/engine/error.hpp>

#include <spdlog/logger.h>

namespace ep::engine {

namespace ps = ep::persistence;
namespace pv = ep::providers;

namespace {

ps::event_record conversation_record(const std::string& run_id, const std::string& phase,
                                     const pv::conversation& conv)
{
    ps::event_record r;
    r.run_id = run_id;
    r.ts = ps::now_ms();
    r.type = conversation_event_type;
    r.payload = {{"phase", phase}, {"format", "openai"}, {"messages", pv::to_openai_messages(conv)}};
    return r;
}

ps::phase_record phase_row(const detail::run_state& rs, const phase_spec& ph, const detail::phase_answer& a)
{
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = ph.id;
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
    rec.cost_usd = a.cost;
    return rec;
}

}  // namespace

asio::awaitable<void> workflow_executor::checkpoint_phase(detail::run_state& rs, std::size_t idx,
                                                          detail::phase_answer& a, detail::phase_log& log)
{
    const auto& ph = rs.spec.phases[idx];
    rs.checkpoint_queued[idx] = true;  // no "running" mark may follow (mark_running)
    ps::phase_record rec = phase_row(rs, ph, a);
    const auto attempts = detail::to_store_attempts(rs, ph, a.attempts);
    std::optional<run_event> final_event;
    if (a.end == detail::phase_end::completed)
    {
        rec.status = ps::phase_status::completed;
        rec.output_text = a.output;
        rec.output_json = a.output_json;
        final_event = events::phase_completed(rs.run_id, ph.id, rec.provider, rec.model, a.in_tokens,
                                              a.out_tokens, a.cost, a.output);
        log.add(*final_event);
        log.events.push_back(conversation_record(rs.run_id, ph.id, a.conversation));
        if (auto committed = co_await store_.commit_phase(rec, log.events, attempts); !committed)
        {
            a.end = detail::phase_end::failed;
            a.failure = {workflow_errc::checkpoint_failed,
                         "cannot save the phase result: " + committed.error().to_string()};
            log_->error("run {} phase {}: {}", rs.run_id, ph.id, a.failure.message);
            log.events.clear();  // rolled back; the failure is recorded below instead
        }
    }
    if (a.end != detail::phase_end::completed)
    {
        if (a.end == detail::phase_end::cancelled)
            a.failure = {workflow_errc::cancelled,
                         "cancelled: " + (rs.stop_reason.empty() ? std::string("interrupted") : rs.stop_reason)};
        rec.status = a.end == detail::phase_end::cancelled ? ps::phase_status::cancelled : ps::phase_status::failed;
        rec.error = a.failure.message;
        rec.output_text.clear();
        rec.output_json.reset();
        final_event = events::phase_failed(rs.run_id, ph.id, a.failure.message);
        log.add(*final_event);
        if (auto r = co_await store_.commit_phase(rec, log.events, attempts); !r)
            log_->error("run {} phase {}: cannot record the failure: {}", rs.run_id, ph.id, r.error().to_string());
    }
    rs.sink.on_event(*final_event);

    auto& sum = rs.summaries[idx];
    sum.status = rec.status;
    sum.provider = rec.provider;
    sum.model = rec.model;
    sum.error = a.failure.message;
    sum.error_code = a.failure.code;
    sum.input_tokens = a.in_tokens;
    sum.output_tokens = a.out_tokens;
    sum.cost_usd = a.cost;
    if (a.end == detail::phase_end::completed)
    {
        sum.output = a.output;
        rs.context.phases[ph.id] = {a.output, a.output_json};
        rs.conversations[ph.id] = std::move(a.conversation);
        rs.states[idx] = phase_state::completed;
    }
    else
        rs.states[idx] = a.end == detail::phase_end::cancelled ? phase_state::cancelled : phase_state::failed;
}

}  // namespace ep::engine
