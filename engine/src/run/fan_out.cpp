// for_each: a phase expanded into one instance per item of the array its expression yields;
// the phase's own checkpoint is the aggregate (outputs and JSON in item order), written once
// every item has finished.
#include "run/services.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

asio::awaitable<bool> expand_items(run_services& sv, run_state& rs, std::size_t p)
{
    const auto& ph = rs.phase(p);
    auto& t = rs.tracks[p];
    // A resume whose aggregate is stored completed: the whole phase is loaded.
    if (const auto* stored = stored_instance(rs, p, std::nullopt); stored && stored->status == ps::phase_status::completed)
    {
        render_context::phase_result r;
        r.output = stored->output_text;
        r.json = stored->output_json;
        r.outputs = stored->output_json && stored->output_json->is_object() ? stored->output_json->value("outputs", nlohmann::json())
                                                                              : nlohmann::json();
        if (stored->output_json && stored->output_json->is_object() && stored->output_json->contains("json"))
            r.json = (*stored->output_json)["json"];
        set_result(rs, p, std::move(r));
        t.state = phase_state::completed;
        t.self.state = phase_state::completed;
        t.self.summary = summary_of(ph.id, t.iteration, ps::phase_status::completed);
        t.self.summary.from_checkpoint = true;
        co_await on_phase_finished(sv, rs, p);
        co_return false;
    }
    std::string why;
    auto value = rs.spec.expressions.evaluate(ph.for_each->expr, run_document(rs, p), &why);
    if (value && !value->value.is_array())
        why = "for_each '" + ph.for_each->expression.value + "' gave " + std::string(value->value.type_name()) +
              ", not an array";
    else if (value && value->value.size() > max_for_each_items)
        why = "for_each '" + ph.for_each->expression.value + "' gave " + std::to_string(value->value.size()) +
              " items; at most " + std::to_string(max_for_each_items) + " are allowed";
    if (!value || !why.empty())
    {
        // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
        std::string message = value ? why : "for_each: " + why;
        co_await commit_phase_failure(sv, rs, p, workflow_errc::expression_failed, std::move(message));
        co_return false;
    }
    t.items.assign(value->value.begin(), value->value.end());
    t.item_states.clear();
    t.item_states.resize(t.items.size());
    for (auto& in : t.item_states)
        in.summary.id = ph.id;
    t.expanded = true;
    t.state = phase_state::running;
    sv.log.info("run {}: phase {} fans out over {} items", rs.run_id, ph.id, t.items.size());
    co_return true;
}

std::vector<std::size_t> startable_items(const run_state& rs, std::size_t p, std::size_t room)
{
    const auto& t = rs.tracks[p];
    std::vector<std::size_t> out;
    const std::size_t limit = static_cast<std::size_t>(rs.phase(p).for_each->max_parallel);
    std::size_t running = t.items_running;
    for (std::size_t i = t.items_started; i < t.items.size() && running < limit && out.size() < room; ++i, ++running)
        out.push_back(i);
    return out;
}

namespace {

// outputs and json in item order; the aggregate's own output is the outputs, one per paragraph.
render_context::phase_result aggregate_of(const run_state& rs, std::size_t p, nlohmann::json& stored_json)
{
    const auto& t = rs.tracks[p];
    render_context::phase_result r;
    nlohmann::json outputs = nlohmann::json::array(), jsons = nlohmann::json::array();
    for (const auto& in : t.item_states)
    {
        outputs.push_back(in.summary.output);
        auto parsed = rs.phase(p).output.format == output_format::json
                          ? nlohmann::json::parse(in.summary.output, nullptr, false)
                          : nlohmann::json(in.summary.output);
        jsons.push_back(parsed.is_discarded() ? nlohmann::json(in.summary.output) : parsed);
        if (!r.output.empty())
            r.output += "\n\n";
        r.output += in.summary.output;
    }
    r.outputs = outputs;
    r.json = jsons;
    stored_json = {{"outputs", outputs}, {"json", jsons}};
    return r;
}

}  // namespace

asio::awaitable<void> finish_fan_out(run_services& sv, run_state& rs, std::size_t p)
{
    auto& t = rs.tracks[p];
    const auto& ph = rs.phase(p);
    std::optional<std::size_t> failed;
    bool all_completed = true;
    for (std::size_t i = 0; i < t.item_states.size(); ++i)
    {
        const auto s = t.item_states[i].state;
        all_completed = all_completed && s == phase_state::completed;
        if (s == phase_state::failed && !failed)
            failed = i;
    }
    if (failed)
    {
        const auto& item = t.item_states[*failed];
        // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
        std::string message = "item " + std::to_string(*failed) + " failed: " + item.summary.error;
        co_await commit_phase_failure(sv, rs, p, item.summary.error_code, std::move(message));
        co_return;
    }
    if (!all_completed)
    {
        t.state = phase_state::cancelled;  // stopped before every item ran; a resume runs the rest
        t.self.summary = summary_of(ph.id, t.iteration, ps::phase_status::cancelled);
        co_return;
    }
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = ph.id;
    rec.iteration = t.iteration;
    rec.status = ps::phase_status::completed;
    nlohmann::json stored_json;
    auto result = aggregate_of(rs, p, stored_json);
    rec.output_text = result.output;
    rec.output_json = std::move(stored_json);
    rec.finished = ps::now_ms();
    auto ev = events::phase_completed(rs.run_id, ph.id, "", "", 0, 0, 0, result.output);
    tag(rs, ev, p);
    if (auto r = co_await sv.store.commit_phase(rec, one_event(ev)); !r)
    {
        // Named: g++ 12 double-frees a temporary passed by value to a coroutine.
        std::string message = "cannot save the phase result: " + r.error().to_string();
        co_await commit_phase_failure(sv, rs, p, workflow_errc::checkpoint_failed, std::move(message));
        co_return;
    }
    rs.sink.on_event(ev);
    set_result(rs, p, std::move(result));
    t.state = phase_state::completed;
    t.self.state = phase_state::completed;
    t.self.summary = summary_of(ph.id, t.iteration, ps::phase_status::completed);
    t.self.summary.output = rs.context.phases[ph.id].output;
    co_await on_phase_finished(sv, rs, p);
}

}  // namespace ep::engine::detail
