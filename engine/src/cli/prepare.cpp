#include <ep/engine/cli.hpp>
#include <ep/engine/loader.hpp>

#include <ostream>

namespace ep::engine {

std::optional<prepared_workflow> prepare_workflow(cli_context& ctx, bool bind)
{
    const auto& o = ctx.options;
    diagnostics diag;
    std::error_code ec;
    if (!std::filesystem::exists(o.workflow, ec))
    {
        ctx.err << o.workflow << ": no such file\n";
        return std::nullopt;
    }
    auto spec = load_workflow_file_partial(o.workflow, diag);

    std::optional<policy> routing;
    if (spec)
    {
        policy_options popts;
        popts.workflows_dir = ctx.workflows_dir;
        popts.config = o.config;
        popts.personas_file = o.personas_file;
        popts.workflow = &*spec;
        auto loaded = load_policy(popts, ctx.env, diag);
        if (loaded)
            routing = std::move(*loaded);
    }

    std::optional<dag> graph;
    if (spec)
    {
        // Without a policy, personas are not checked (its own errors are already reported).
        auto compiled = compile(*spec, routing ? &*routing : nullptr, diag);
        if (compiled)
            graph = std::move(*compiled);
    }

    std::vector<std::string> input_errors;
    input_values inputs;
    if (spec && (bind || !o.inputs.empty() || !o.input_files.empty()))
    {
        std::vector<std::string> kv = o.inputs;
        auto bound = bind_inputs(*spec, kv, o.input_files, input_errors);
        // --validate/--explain without inputs must not complain about missing required ones.
        if (!bind)
            std::erase_if(input_errors, [](const std::string& e) { return e.rfind("missing required input", 0) == 0; });
        if (bound)
            inputs = std::move(*bound);
    }

    diag.sort();
    for (const auto& d : diag.items())
        ctx.err << d.str() << "\n";
    for (const auto& e : input_errors)
        ctx.err << "ep-run: " << e << "\n";
    if (!diag.empty() || !input_errors.empty() || !spec || !routing || !graph)
    {
        if (diag.empty() && input_errors.empty())
            ctx.err << o.workflow << ": invalid workflow\n";
        return std::nullopt;
    }
    return prepared_workflow{std::move(*spec), std::move(*routing), std::move(*graph), std::move(inputs)};
}

}  // namespace ep::engine
