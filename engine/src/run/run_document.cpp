// What expressions and templates of an instance see: the run document and the render context.
#include "run/services.hpp"

namespace ep::engine::detail {

namespace {

const char* status_name(phase_state s)
{
    switch (s)
    {
    case phase_state::pending: return "pending";
    case phase_state::running: return "running";
    case phase_state::waiting: return "waiting";
    case phase_state::completed: return "completed";
    case phase_state::failed: return "failed";
    case phase_state::skipped: return "skipped";
    case phase_state::cancelled: return "cancelled";
    }
    return "pending";
}

nlohmann::json phase_entry(const run_state& rs, std::size_t p)
{
    const auto& t = rs.tracks[p];
    nlohmann::json e = {{"status", status_name(t.state)}, {"iteration", t.iteration}};
    auto it = rs.context.phases.find(rs.phase(p).id);
    const bool has_result = t.state == phase_state::completed && it != rs.context.phases.end();
    static const render_context::phase_result none;
    const auto& r = has_result ? it->second : none;
    e["output"] = has_result ? nlohmann::json(r.output) : nlohmann::json();
    e["json"] = has_result && r.json ? *r.json : nlohmann::json();
    e["outputs"] = has_result && r.outputs ? *r.outputs : nlohmann::json();
    e["exit_code"] = has_result && r.json && r.json->is_object() && r.json->contains("exit_code")
                         ? (*r.json)["exit_code"]
                         : nlohmann::json();
    return e;
}

}  // namespace

std::optional<int> loop_iteration_of(const run_state& rs, std::size_t phase)
{
    if (auto l = rs.graph.innermost_loop(phase))
        return rs.loops[*l].iteration;
    return std::nullopt;
}

nlohmann::json run_document(const run_state& rs, std::size_t phase, std::optional<std::size_t> item)
{
    nlohmann::json doc = {{"inputs", rs.context.inputs}, {"phases", nlohmann::json::object()}};
    for (std::size_t p = 0; p < rs.tracks.size(); ++p)
        doc["phases"][rs.phase(p).id] = phase_entry(rs, p);
    const auto iteration = loop_iteration_of(rs, phase);
    doc["iteration"] = iteration ? nlohmann::json(*iteration) : nlohmann::json();
    const auto& t = rs.tracks[phase];
    doc["item"] = item && *item < t.items.size() ? t.items[*item] : nlohmann::json();
    doc["index"] = item ? nlohmann::json(*item) : nlohmann::json();
    return doc;
}

render_context& instance_context(run_state& rs, std::size_t phase, std::optional<std::size_t> item)
{
    // rs.context holds the inputs and the latest result of every phase (kept up to date as
    // instances end); only the instance's own part changes here, so nothing large is copied.
    auto& ctx = rs.context;
    ctx.loop_iteration = loop_iteration_of(rs, phase);
    const auto& t = rs.tracks[phase];
    ctx.item.reset();
    ctx.index.reset();
    if (item && *item < t.items.size())
    {
        ctx.item = t.items[*item];
        ctx.index = *item;
    }
    return ctx;
}

void set_result(run_state& rs, std::size_t phase, render_context::phase_result result)
{
    rs.context.phases[rs.phase(phase).id] = std::move(result);
}

run_event& tag(const run_state& rs, run_event& ev, std::size_t phase, std::optional<std::size_t> item)
{
    std::optional<int> iteration;
    if (rs.graph.innermost_loop(phase))
        iteration = rs.tracks[phase].iteration;
    std::optional<int> index;
    if (item)
        index = static_cast<int>(*item);
    return events::tag_instance(ev, iteration, index);
}

const persistence::phase_record* stored_instance(const run_state& rs, std::size_t phase,
                                                 std::optional<std::size_t> item)
{
    std::optional<int> key_item;
    if (item)
        key_item = static_cast<int>(*item);
    auto it = rs.stored.find(instance_key{rs.phase(phase).id, rs.tracks[phase].iteration, key_item});
    return it == rs.stored.end() ? nullptr : &it->second;
}

}  // namespace ep::engine::detail
