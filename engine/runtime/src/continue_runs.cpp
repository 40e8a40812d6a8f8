// Runs that continue from the store: resume, approve/reject (a decision, then resume) and fork
// (a new run that starts from a copy of another's completed instances).
#include "runtime_impl.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::runtime {

namespace ps = ep::persistence;

namespace {

// A stored run and its definition, prepared again (with today's policy and `config`).
struct stored_run
{
    ps::run_record record;
    prepared_workflow workflow;
};

}  // namespace

struct runtime::continuation
{
    static asio::awaitable<result<stored_run>> load(runtime& rt, const std::string& run_id, const std::string& config,
                                                    bool completed_ok)
    {
        auto& impl = *rt.impl_;
        if (auto opened = impl.ensure_store(store_access::write_existing); !opened)
        {
            auto e = opened.error();
            if (e.code == runtime_errc::unknown_run)
                e.message += " (unknown run id " + run_id + ")";
            co_return e;
        }
        auto rec = co_await impl.store->get_run(run_id);
        if (!rec)
        {
            auto e = from_store_error(rec.error());
            if (e.code == runtime_errc::unknown_run)
                e.message = "unknown run id '" + run_id + "' in " + rt.store_location();
            co_return e;
        }
        if (rec->status == ps::run_status::completed && !completed_ok)
            co_return runtime_error{runtime_errc::already_completed,
                                    "run " + run_id + " already completed; nothing to resume", {}};
        // The stored definition, not the file on disk (which may have changed since).
        workflow_source source;
        source.text = rec->definition;
        source.display_name = rec->workflow + ".yaml (stored in run " + run_id + ")";
        prepare_options popts;
        popts.config = config.empty() ? rec->mix : config;
        popts.bind_inputs = false;
        auto wf = rt.prepare(source, popts);
        if (!wf)
            co_return wf.error();
        const auto routing = rt.explain(*wf);
        if (!routing.all_routable())
            co_return unroutable_error(routing);
        co_return stored_run{std::move(*rec), std::move(*wf)};
    }

    static asio::awaitable<result<engine::run_outcome>> go(runtime& rt, stored_run& run, engine::run_request req,
                                                           engine::event_sink& sink, engine::run_control* control,
                                                           const run_options& options)
    {
        req.spec = &run.workflow.spec;
        req.graph = &run.workflow.graph;
        req.resume_run_id = run.record.id;
        req.max_cost_usd = options.max_cost_usd;
        req.workspace = options.workspace;
        if (!options.config.empty())
            req.mix = run.workflow.routing.mix.name.empty() ? options.config : run.workflow.routing.mix.name;
        co_return co_await rt.impl_->execute(run.workflow.routing, std::move(req), sink, control, options);
    }
};

asio::awaitable<result<engine::run_outcome>> runtime::resume(std::string run_id, engine::event_sink& sink,
                                                             engine::run_control* control, run_options options)
{
    auto run = co_await continuation::load(*this, run_id, options.config, false);
    if (!run)
        co_return run.error();
    engine::run_request req;  // named: g++ 12 mishandles a temporary passed by value to a coroutine
    co_return co_await continuation::go(*this, *run, std::move(req), sink, control, options);
}

asio::awaitable<result<engine::run_outcome>> runtime::approve(std::string run_id, engine::approval_decision decision,
                                                              engine::event_sink& sink, engine::run_control* control,
                                                              run_options options)
{
    auto run = co_await continuation::load(*this, run_id, options.config, false);
    if (!run)
        co_return run.error();
    const auto* phase = run->workflow.spec.find_phase(decision.phase);
    if (!phase)
        co_return runtime_error{runtime_errc::unknown_phase,
                                "run " + run_id + " has no phase '" + decision.phase + "'", {}};
    auto phases = co_await impl_->store->get_phases(run_id);
    if (!phases)
        co_return from_store_error(phases.error());
    bool waiting = false;
    for (const auto& p : *phases)
        waiting = waiting || (p.phase_id == decision.phase && p.status == ps::phase_status::waiting);
    if (phase->kind != engine::phase_kind::approval || !waiting)
        co_return runtime_error{runtime_errc::not_waiting,
                                "phase '" + decision.phase + "' of run " + run_id + " is not " +
                                    (phase->kind == engine::phase_kind::approval ? "waiting for a decision"
                                                                                 : "an approval gate"),
                                {}};
    engine::run_request req;
    req.decision = std::move(decision);
    co_return co_await continuation::go(*this, *run, std::move(req), sink, control, options);
}

namespace {

// The parent's inputs with KEY=VALUE overrides; unknown keys are errors.
result<nlohmann::json> forked_inputs(const ps::run_record& parent, const engine::workflow_spec& spec,
                                     const std::vector<std::string>& overrides)
{
    nlohmann::json inputs = parent.inputs.is_object() ? parent.inputs : nlohmann::json::object();
    runtime_error bad{runtime_errc::invalid_input, "invalid --input for the fork", {}};
    for (const auto& kv : overrides)
    {
        const auto eq = kv.find('=');
        const std::string key = kv.substr(0, eq);
        if (eq == std::string::npos || !spec.find_input(key))
            bad.details.input_errors.push_back(eq == std::string::npos ? "'" + kv + "' is not KEY=VALUE"
                                                                       : "unknown input '" + key + "'");
        else
            inputs[key] = kv.substr(eq + 1);
    }
    if (!bad.details.empty())
        return bad;
    return inputs;
}

}  // namespace

asio::awaitable<result<engine::run_outcome>> runtime::fork(std::string run_id, fork_options fork,
                                                           engine::event_sink& sink, engine::run_control* control,
                                                           run_options options)
{
    auto parent = co_await continuation::load(*this, run_id, options.config, true);
    if (!parent)
        co_return parent.error();
    const auto& graph = parent->workflow.graph;
    const auto from = graph.index_of(fork.from_phase);
    if (!from)
        co_return runtime_error{runtime_errc::unknown_phase,
                                "run " + run_id + " has no phase '" + fork.from_phase + "'", {}};
    // Checked here, before the child run is stored (the executor checks resumes itself).
    if (auto conflict = engine::workspace_conflict(parent->record.options, options.workspace.dir))
        co_return runtime_error{runtime_errc::invalid_input, *conflict, {}};
    auto inputs = forked_inputs(parent->record, parent->workflow.spec, fork.inputs);
    if (!inputs)
        co_return inputs.error();
    ps::run_record child;
    child.workflow = parent->record.workflow;
    child.definition = parent->record.definition;
    child.inputs = std::move(*inputs);
    child.mix = parent->workflow.routing.mix.name.empty() ? parent->record.mix : parent->workflow.routing.mix.name;
    child.status = ps::run_status::pending;
    child.options = parent->record.options;
    child.parent_run_id = run_id;
    child.parent_phase = fork.from_phase;
    auto created = co_await impl_->store->create_run(std::move(child));
    if (!created)
        co_return from_store_error(created.error());
    std::vector<std::string> keep;  // every phase not downstream of `from` (nor `from` itself)
    for (std::size_t p = 0; p < graph.size(); ++p)
        if (p != *from && !graph.is_upstream(*from, p))
            keep.push_back(graph.id(p));
    if (auto copied = co_await impl_->store->copy_phases(run_id, created->id, keep); !copied)
        co_return from_store_error(copied.error());
    stored_run run{std::move(*created), std::move(parent->workflow)};
    engine::run_request req;  // named: g++ 12 mishandles a temporary passed by value to a coroutine
    co_return co_await continuation::go(*this, run, std::move(req), sink, control, options);
}

}  // namespace ep::runtime
