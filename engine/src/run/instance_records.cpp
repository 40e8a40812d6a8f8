// Phase outcomes decided without calling a provider: a skip (a need failed or was skipped,
// `when` was false) or a failure (an expression failed). Each is one checkpoint, like a result.
#include "run/services.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

namespace {

ps::phase_record instance_row(const run_state& rs, std::size_t p, ps::phase_status status, const std::string& error)
{
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = rs.phase(p).id;
    rec.iteration = rs.tracks[p].iteration;
    rec.status = status;
    rec.error = error;
    rec.finished = ps::now_ms();
    return rec;
}

}  // namespace

asio::awaitable<void> commit_skip(run_services& sv, run_state& rs, std::size_t p, std::string reason)
{
    auto& t = rs.tracks[p];
    t.state = phase_state::skipped;
    t.self.state = phase_state::skipped;
    t.self.summary.id = rs.phase(p).id;
    t.self.summary.iteration = t.iteration;
    t.self.summary.status = ps::phase_status::skipped;
    t.self.summary.error = reason;
    // Templates that read a skipped phase get an empty string.
    render_context::phase_result skipped;
    skipped.skipped = true;
    set_result(rs, p, std::move(skipped));
    auto ev = events::phase_skipped(rs.run_id, rs.phase(p).id, reason);
    tag(rs, ev, p);
    // A resume that skips it again for the same reason has nothing new to record.
    const auto* before = stored_instance(rs, p, std::nullopt);
    if (!before || before->status != ps::phase_status::skipped || before->error != reason)
        if (auto r = co_await sv.store.commit_phase(instance_row(rs, p, ps::phase_status::skipped, reason), one_event(ev));
            !r)
            sv.log.error("run {}: cannot record skipped phase {}: {}", rs.run_id, rs.phase(p).id, r.error().to_string());
    rs.sink.on_event(ev);
    co_await on_phase_finished(sv, rs, p);
}

asio::awaitable<void> commit_phase_failure(run_services& sv, run_state& rs, std::size_t p,
                                           boost::system::error_code code, std::string message)
{
    auto& t = rs.tracks[p];
    t.state = phase_state::failed;
    t.self.state = phase_state::failed;
    t.self.summary.id = rs.phase(p).id;
    t.self.summary.iteration = t.iteration;
    t.self.summary.status = ps::phase_status::failed;
    t.self.summary.error = message;
    t.self.summary.error_code = code;
    auto ev = events::phase_failed(rs.run_id, rs.phase(p).id, message);
    tag(rs, ev, p);
    if (auto r = co_await sv.store.commit_phase(instance_row(rs, p, ps::phase_status::failed, message), one_event(ev)); !r)
        sv.log.error("run {}: cannot record the failure of phase {}: {}", rs.run_id, rs.phase(p).id,
                     r.error().to_string());
    rs.sink.on_event(ev);
    co_await on_phase_finished(sv, rs, p);
}

}  // namespace ep::engine::detail
