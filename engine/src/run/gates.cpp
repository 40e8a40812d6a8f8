// Approval gates: reaching one records it `waiting` (phase_waiting) and the run goes on with
// whatever does not depend on it; a decision (ep-run --approve/--reject, or a timeout's default)
// completes it with {approved, comment, by, at} as its JSON.
#include "run/phase_steps.hpp"
#include "run/services.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

namespace {

void load_decision(run_state& rs, std::size_t p, const ps::phase_record& stored)
{
    auto& t = rs.tracks[p];
    render_context::phase_result r;
    r.output = stored.output_text;
    r.json = stored.output_json;
    set_result(rs, p, std::move(r));
    t.state = t.self.state = phase_state::completed;
    t.self.summary = summary_of(rs.phase(p).id, t.iteration, ps::phase_status::completed);
    t.self.summary.output = stored.output_text;
    t.self.summary.from_checkpoint = true;
}

asio::awaitable<void> record_decision(run_services& sv, run_state& rs, std::size_t p, bool approved,
                                      const std::string& comment, const std::string& by)
{
    auto& t = rs.tracks[p];
    const auto& ph = rs.phase(p);
    const auto at = ps::now_ms();
    nlohmann::json decision = {{"approved", approved}, {"comment", comment}, {"by", by}, {"at", format_rfc3339(at)}};
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = ph.id;
    rec.iteration = t.iteration;
    rec.status = ps::phase_status::completed;
    rec.output_text = std::string(approved ? "approved" : "rejected") + (comment.empty() ? "" : ": " + comment);
    rec.output_json = decision;
    if (const auto* before = stored_instance(rs, p, std::nullopt))
        rec.started = before->started;
    rec.finished = at;
    auto recorded = events::approval_recorded(rs.run_id, ph.id, approved, comment);
    auto completed = events::phase_completed(rs.run_id, ph.id, "", "", 0, 0, 0, rec.output_text);
    tag(rs, recorded, p);
    tag(rs, completed, p);
    std::vector<ps::event_record> evs{to_record(recorded), to_record(completed)};
    if (auto r = co_await sv.store.commit_phase(rec, evs); !r)
    {
        // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
        std::string message = "cannot save the decision: " + r.error().to_string();
        co_await commit_phase_failure(sv, rs, p, workflow_errc::checkpoint_failed, std::move(message));
        co_return;
    }
    rs.sink.on_event(recorded);
    rs.sink.on_event(completed);
    load_decision(rs, p, rec);
    t.self.summary.from_checkpoint = false;
    co_await on_phase_finished(sv, rs, p);
}

asio::awaitable<void> wait_at_gate(run_services& sv, run_state& rs, std::size_t p, const ps::phase_record* before)
{
    auto& t = rs.tracks[p];
    const auto& ph = rs.phase(p);
    t.state = t.self.state = phase_state::waiting;
    t.self.summary = summary_of(ph.id, t.iteration, ps::phase_status::waiting);
    t.self.summary.error = ph.approval->prompt;
    auto ev = events::phase_waiting(rs.run_id, ph.id, ph.approval->prompt);
    tag(rs, ev, p);
    if (!before || before->status != ps::phase_status::waiting)
    {
        ps::phase_record rec;
        rec.run_id = rs.run_id;
        rec.phase_id = ph.id;
        rec.iteration = t.iteration;
        rec.status = ps::phase_status::waiting;
        rec.started = ps::now_ms();  // the timeout counts from here
        if (auto r = co_await sv.store.commit_phase(rec, one_event(ev)); !r)
            sv.log.error("run {}: cannot record the gate {} as waiting: {}", rs.run_id, ph.id, r.error().to_string());
    }
    rs.sink.on_event(ev);
}

}  // namespace

asio::awaitable<void> reach_gate(run_services& sv, run_state& rs, std::size_t p)
{
    const auto& ph = rs.phase(p);
    const auto& gate = *ph.approval;
    const auto* before = stored_instance(rs, p, std::nullopt);
    if (before && before->status == ps::phase_status::completed)
    {
        load_decision(rs, p, *before);
        co_await on_phase_finished(sv, rs, p);
        co_return;
    }
    const bool waiting = before && before->status == ps::phase_status::waiting;
    if (rs.req.decision && rs.req.decision->phase == ph.id && waiting)
    {
        const auto& d = *rs.req.decision;
        co_await record_decision(sv, rs, p, d.approved, d.comment, d.by);
        co_return;
    }
    if (waiting && gate.timeout && before->started && ps::now_ms() - *before->started >= *gate.timeout)
    {
        if (!gate.default_approve)
        {
            std::string message = "the approval gate timed out after " + duration_text(*gate.timeout) +
                                  // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
                                  " and has no default";
            co_await commit_phase_failure(sv, rs, p, workflow_errc::gate_timed_out, std::move(message));
            co_return;
        }
        co_await record_decision(sv, rs, p, *gate.default_approve, "timed out; the default applied", "timeout");
        co_return;
    }
    co_await wait_at_gate(sv, rs, p, before);
}

}  // namespace ep::engine::detail
