// Validation of a generated 1,000-phase workflow: YAML load + schema + compile (+ policy), i.e.
// what `ep-run --validate` does. Prints the time per validation (Google Benchmark).
#include <ep/common/env.hpp>
#include <ep/engine/dag.hpp>
#include <ep/engine/loader.hpp>
#include <ep/engine/policy.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

// A layered DAG: every phase needs one or two phases of the previous layer of 10, and uses
// their outputs in its prompt.
std::string generate_workflow(int phases)
{
    const char* personas[] = {"architect", "code_writer", "reviewer", "qa_engineer"};
    std::string yaml = "name: generated\ninputs:\n  task: {type: string}\nphases:\n";
    for (int i = 0; i < phases; ++i)
    {
        std::string id = "p" + std::to_string(i);
        yaml += "  " + id + ":\n    persona: " + personas[i % 4] + "\n";
        if (i < 10)
        {
            yaml += "    prompt: \"Start {{ inputs.task }}\"\n";
            continue;
        }
        int a = i - 10, b = i - 10 - (i % 7 == 0 ? 0 : 1) ;
        if (b < (i / 10 - 1) * 10)
            b = a;
        yaml += "    needs: [p" + std::to_string(a) + (b != a ? ", p" + std::to_string(b) : "") + "]\n";
        yaml += "    prompt: |\n      Continue {{ inputs.task }} from:\n      {{ phases.p" + std::to_string(a) +
                ".output }}\n";
    }
    return yaml;
}

void bm_validate_1000_phases(benchmark::State& state)
{
    const std::string yaml = generate_workflow(static_cast<int>(state.range(0)));
    auto env = ep::environment::from_map({});
    const auto workflows = std::filesystem::path(EP_SOURCE_DIR) / "workflows";
    for (auto _ : state)
    {
        ep::engine::diagnostics diag;
        auto spec = ep::engine::load_workflow_string(yaml, "generated.yaml", diag);
        if (!spec)
        {
            state.SkipWithError(diag.str().c_str());
            break;
        }
        ep::engine::policy_options opts;
        opts.workflows_dir = workflows;
        opts.workflow = &*spec;
        auto pol = ep::engine::load_policy(opts, env, diag);
        auto graph = ep::engine::compile(*spec, pol ? &*pol : nullptr, diag);
        if (!graph)
        {
            state.SkipWithError(diag.str().c_str());
            break;
        }
        benchmark::DoNotOptimize(graph->levels().size());
    }
    state.SetLabel(std::to_string(yaml.size() / 1024) + " KiB of YAML");
}
BENCHMARK(bm_validate_1000_phases)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
