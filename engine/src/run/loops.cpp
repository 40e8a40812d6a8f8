// `repeat:` loops: after the owner's pass, `until` decides between another pass (every phase of
// the body gets a new iteration) and the end of the loop.
#include "run/services.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine::detail {

need_status status_of_need(const run_state& rs, std::size_t need, std::size_t phase)
{
    // The loops holding `need` but not `phase`, innermost first: each must have ended.
    for (auto l = rs.graph.innermost_loop(need); l; l = rs.graph.loops()[*l].parent)
    {
        if (rs.graph.in_loop(*l, phase))
            break;
        const auto& loop = rs.loops[*l];
        const auto owner_state = rs.tracks[rs.graph.loops()[*l].owner].state;
        if (loop.exhausted)
            return need_status::failed;
        const bool owner_done = owner_state == phase_state::failed || owner_state == phase_state::cancelled ||
                                owner_state == phase_state::skipped;
        if (!loop.finished && !owner_done)
            return need_status::waiting;
    }
    switch (rs.tracks[need].state)
    {
    case phase_state::completed: return need_status::completed;
    case phase_state::skipped: return need_status::skipped;
    case phase_state::failed:
    case phase_state::cancelled: return need_status::failed;
    default: return need_status::waiting;
    }
}

namespace {

// Every phase of loop `l`'s body starts a new iteration; loops nested in it start over.
void start_next_pass(run_state& rs, std::size_t l)
{
    const auto& info = rs.graph.loops()[l];
    rs.loops[l].iteration += 1;
    for (std::size_t p = 0; p < rs.tracks.size(); ++p)
    {
        if (!info.body[p])
            continue;
        auto& t = rs.tracks[p];
        // previous.ID reads this pass's result from now on.
        if (auto it = rs.context.phases.find(rs.phase(p).id); it != rs.context.phases.end())
            t.previous = it->second;
        else
            t.previous.reset();
        if (auto prev = rs.context.previous.find(rs.phase(p).id); t.previous)
            rs.context.previous[rs.phase(p).id] = *t.previous;
        else if (prev != rs.context.previous.end())
            rs.context.previous.erase(prev);
        t.iteration += 1;
        t.state = phase_state::pending;
        t.self = instance_state{};
        t.self.summary.id = rs.phase(p).id;
        t.expanded = false;
        t.items.clear();
        t.item_states.clear();
        t.items_started = t.items_running = t.items_finished = 0;
    }
    for (std::size_t inner = 0; inner < rs.loops.size(); ++inner)
        if (inner != l && rs.graph.loops()[inner].parent && info.body[rs.graph.loops()[inner].owner])
            rs.loops[inner] = loop_state{};
}

}  // namespace

asio::awaitable<void> after_loop_pass(run_services& sv, run_state& rs, std::size_t owner)
{
    const auto l = rs.graph.loop_of_owner(owner);
    if (!l)
        co_return;
    const auto& spec = *rs.phase(owner).repeat;
    auto& loop = rs.loops[*l];
    std::string why;
    auto until = rs.spec.expressions.evaluate(spec.until_expr, run_document(rs, owner), &why);
    if (!until)
    {
        loop.exhausted = true;  // the loop cannot go on: its dependents must not run
        if (rs.first_error.empty())
            rs.first_error = "phase '" + rs.phase(owner).id + "': repeat.until failed: " + why;
        sv.log.error("run {}: {}", rs.run_id, rs.first_error);
        co_return;
    }
    if (is_truthy(until->value))
    {
        loop.finished = true;
        co_return;
    }
    if (loop.iteration < spec.max_iterations)
    {
        sv.log.info("run {}: loop of '{}' goes round again (pass {} of at most {})", rs.run_id, rs.phase(owner).id,
                    loop.iteration + 1, spec.max_iterations);
        start_next_pass(rs, *l);
        co_return;
    }
    if (!spec.fail_when_exhausted)
    {
        loop.finished = true;  // on_exhausted: continue with the last pass
        co_return;
    }
    loop.exhausted = true;
    if (rs.first_error.empty())
        rs.first_error = "phase '" + rs.phase(owner).id + "': the loop reached max_iterations (" +
                         std::to_string(spec.max_iterations) + ") and '" + spec.until.value + "' is still " +
                         until->value.dump();
}

}  // namespace ep::engine::detail
