// runtime::prepare and runtime::explain: a workflow from text to a runnable, routed whole,
// with every problem collected (FILE:LINE:COL) rather than the first.
#include "runtime_impl.hpp"

#include <ep/common/read_file.hpp>
#include <ep/engine/loader.hpp>

namespace ep::runtime {

namespace {

runtime_error invalid(runtime_errc code, problems details, std::string message)
{
    details.diag.sort();
    return runtime_error{code, std::move(message), std::move(details)};
}

}  // namespace

std::optional<engine::policy> runtime::impl::load_policy_for(const engine::workflow_spec* spec,
                                                             const std::string& config,
                                                             engine::diagnostics& diag) const
{
    engine::policy_options popts;
    popts.workflows_dir = cfg.workflows_dir;
    popts.config = config;
    popts.personas_file = cfg.personas_file;
    popts.workflow = spec;
    auto loaded = engine::load_policy(popts, cfg.env, diag);
    if (!loaded)
        return std::nullopt;
    return std::move(*loaded);
}

result<prepared_workflow> runtime::prepare(const workflow_source& source, const prepare_options& options) const
{
    problems found;
    std::optional<std::string> text = source.text;
    std::string name = source.text ? (source.display_name.empty() ? "workflow.yaml" : source.display_name)
                                   : source.file.string();
    if (!text)
    {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(source.file, ec))
        {
            found.diag.add(engine::source_location{name, 0, 0}, "no such file");
            return invalid(runtime_errc::invalid_workflow, found, name + ": no such file");
        }
        text = ep::read_whole_file(source.file);
        if (!text)
        {
            found.diag.add(engine::source_location{name, 0, 0}, "cannot read the file");
            return invalid(runtime_errc::invalid_workflow, found, name + ": cannot read the file");
        }
    }
    auto spec = engine::load_workflow_string_partial(*text, name, found.diag);
    if (spec && !source.text)
        spec->source = source.file;
    std::optional<engine::policy> routing;
    std::optional<engine::dag> graph;
    if (spec)
    {
        routing = impl_->load_policy_for(&*spec, options.config, found.diag);
        // Without a policy, personas are not checked (its own errors are already reported).
        if (auto compiled = engine::compile(*spec, routing ? &*routing : nullptr, found.diag))
            graph = std::move(*compiled);
    }
    engine::input_values inputs;
    if (spec && (options.bind_inputs || !options.inputs.empty() || !options.input_files.empty()))
    {
        auto bound = engine::bind_inputs(*spec, options.inputs, options.input_files, found.input_errors);
        // --validate/--explain without inputs must not complain about missing required ones.
        if (!options.bind_inputs)
            std::erase_if(found.input_errors,
                          [](const std::string& e) { return e.rfind("missing required input", 0) == 0; });
        if (bound)
            inputs = std::move(*bound);
    }
    if (!found.diag.empty() || !spec || !routing || !graph)
        return invalid(runtime_errc::invalid_workflow, std::move(found), name + ": invalid workflow");
    if (!found.input_errors.empty())
        return invalid(runtime_errc::invalid_input, std::move(found), name + ": invalid inputs");
    return prepared_workflow{std::move(*spec), std::move(*routing), std::move(*graph), std::move(inputs),
                             std::move(*text)};
}

engine::routing_explanation runtime::explain(const prepared_workflow& workflow) const
{
    // Circuits are not consulted: an open circuit closes again, so it must not refuse a run.
    return engine::explain_routing(workflow.spec, workflow.graph, workflow.routing, impl_->cfg.env);
}

}  // namespace ep::runtime
