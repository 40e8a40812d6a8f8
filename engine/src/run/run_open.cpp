// Opening a run: a new one is created in the store; a resume takes the lease, loads its inputs,
// its stored instances and conversations (replayed by the scheduler), and what it has spent.
#include "run/services.hpp"

#include <ep/providers/convert.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

namespace {

asio::awaitable<ps::result<void>> create(run_services& sv, run_state& rs)
{
    const auto& req = rs.req;
    ps::run_record rec;
    rec.workflow = req.spec->name;
    rec.definition = req.definition;
    rec.inputs = nlohmann::json::object();
    for (const auto& [k, v] : req.inputs)
        rec.inputs[k] = v;
    rec.mix = req.mix;
    rec.status = ps::run_status::running;
    rec.owner = rs.owner;
    rec.options = req.options;
    if (req.max_cost_usd)
        rec.options["max_cost_usd"] = *req.max_cost_usd;
    rec.parent_run_id = req.parent_run_id;
    rec.parent_phase = req.parent_phase;
    auto created = co_await sv.store.create_run(std::move(rec));
    if (!created)
        co_return created.error();
    rs.run_id = created->id;
    rs.mix = created->mix;
    rs.context.inputs = req.inputs;
    co_return ps::result<void>{};
}

void load_instances(run_state& rs, std::vector<ps::phase_record>& phases)
{
    for (auto& p : phases)
    {
        if (!rs.req.graph->index_of(p.phase_id))
            continue;  // a phase the definition no longer has
        instance_key key{p.phase_id, p.iteration, p.item};
        rs.stored[key] = std::move(p);
    }
}

void load_conversations(run_state& rs, const std::vector<ps::event_record>& events)
{
    for (const auto& e : events)
    {
        if (e.type != conversation_event_type)
            continue;
        const auto phase = e.payload.value("phase", std::string{});
        auto conv = providers::from_openai_messages(e.payload.value("messages", nlohmann::json::array()));
        if (conv && !phase.empty())
            rs.conversations[phase] = std::move(*conv);  // events are in order: the latest wins
    }
}

// The run's settings a resume may change: the mix, the cost limit.
asio::awaitable<ps::result<void>> apply_resume_settings(run_services& sv, run_state& rs, const ps::run_record& run)
{
    const auto& req = rs.req;
    rs.mix = run.mix;
    if (!req.mix.empty() && req.mix != run.mix)
    {
        if (auto r = co_await sv.store.set_run_mix(rs.run_id, req.mix); !r)
            co_return r.error();
        rs.mix = req.mix;
    }
    if (req.max_cost_usd)
    {
        auto options = run.options.is_object() ? run.options : nlohmann::json::object();
        options["max_cost_usd"] = *req.max_cost_usd;
        if (auto r = co_await sv.store.set_run_options(rs.run_id, options); !r)
            co_return r.error();
    }
    else if (run.options.is_object() && run.options.contains("max_cost_usd") &&
             run.options["max_cost_usd"].is_number())
        rs.max_cost_usd = run.options["max_cost_usd"].get<double>();
    co_return ps::result<void>{};
}

asio::awaitable<ps::result<void>> resume(run_services& sv, run_state& rs)
{
    auto leased = co_await sv.store.acquire_lease(rs.req.resume_run_id, rs.owner, sv.opts.lease_ttl);
    if (!leased)
        co_return leased.error();
    rs.run_id = leased->id;
    if (auto r = co_await apply_resume_settings(sv, rs, *leased); !r)
        co_return r.error();
    if (auto r = co_await sv.store.set_run_status(rs.run_id, ps::run_status::running); !r)
        co_return r.error();
    if (leased->inputs.is_object())
        for (auto it = leased->inputs.begin(); it != leased->inputs.end(); ++it)
            rs.context.inputs[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    rs.spent_cost = leased->totals.cost_usd;
    rs.spent_tokens = leased->totals.input_tokens + leased->totals.output_tokens;
    auto phases = co_await sv.store.get_phases(rs.run_id);
    if (!phases)
        co_return phases.error();
    load_instances(rs, *phases);
    auto evs = co_await sv.store.get_events(rs.run_id);
    if (!evs)
        co_return evs.error();
    load_conversations(rs, *evs);
    co_return ps::result<void>{};
}

}  // namespace

asio::awaitable<ps::result<void>> open_run(run_services& sv, run_state& rs)
{
    // Not a ?: of two co_awaits: g++ 12 destroys the result of such an expression twice.
    ps::result<void> opened;
    if (rs.req.resume_run_id.empty())
        opened = co_await create(sv, rs);
    else
        opened = co_await resume(sv, rs);
    if (!opened)
        co_return opened;
    // Inputs the caller did not bind (library use, or a run stored before a default was added)
    // take the workflow's defaults, as bind_inputs would have.
    for (const auto& in : rs.spec.inputs)
        if (in.default_value && !rs.context.inputs.count(in.name))
            rs.context.inputs[in.name] =
                in.default_value->is_string() ? in.default_value->get<std::string>() : in.default_value->dump();
    if (rs.req.max_cost_usd)
        rs.max_cost_usd = rs.req.max_cost_usd;
    else if (!rs.max_cost_usd && rs.spec.budget)
        rs.max_cost_usd = rs.spec.budget->max_cost_usd;
    if (rs.spec.budget)
        rs.max_tokens = rs.spec.budget->max_tokens;
    co_return ps::result<void>{};
}

}  // namespace ep::engine::detail
