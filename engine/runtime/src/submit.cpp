// runtime::submit: a run stored `pending` for the workers (`ep-run --detach`), with the same
// record a run started here would have, so that a worker's resume runs it from the start.
#include "runtime_impl.hpp"

namespace ep::runtime {

namespace ps = ep::persistence;

result<std::string> runtime::submit(const prepared_workflow& workflow, const run_options& options)
{
    const auto routing = explain(workflow);
    if (!routing.all_routable())
        return unroutable_error(routing);
    if (auto opened = impl_->ensure_store(store_access::write_create); !opened)
        return opened.error();
    ps::run_record rec;
    rec.workflow = workflow.spec.name;
    rec.definition = workflow.definition;
    rec.inputs = nlohmann::json::object();
    for (const auto& [k, v] : engine::input_texts(workflow.inputs))
        rec.inputs[k] = v;
    rec.mix = workflow.routing.mix.name.empty() ? "A" : workflow.routing.mix.name;
    rec.status = ps::run_status::pending;  // no owner: free for any worker to claim
    if (options.max_cost_usd)
        rec.options["max_cost_usd"] = *options.max_cost_usd;
    auto created = impl_->store->sync().create_run(std::move(rec));
    if (!created)
        return from_store_error(created.error());
    return created->id;
}

}  // namespace ep::runtime
