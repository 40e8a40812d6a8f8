#pragma once
// Shared set-up of the engine benchmarks: a workflow whose phases all use persona "w", served
// by one provider, compiled against a minimal policy; and a sink that drops events.
#include <ep/engine/loader.hpp>
#include <ep/engine/run/executor.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace ep::bench {

struct engine_bench_setup
{
    engine::policy pol;
    std::optional<engine::workflow_spec> spec;
    std::optional<engine::dag> graph;
    engine::provider_map providers;
    std::string yaml;

    /// False (and a message on stderr) when `yaml` does not load or compile.
    bool load(std::string text, const std::shared_ptr<providers::provider>& provider)
    {
        yaml = std::move(text);
        const auto& name = provider->config().name;
        engine::persona_spec w;
        w.name = "w";
        w.provider_preferences.push_back({name, provider->config().default_model().id, {}});
        pol.personas["w"] = w;
        pol.providers[name] = provider->config();
        providers[name] = provider;
        engine::diagnostics diag;
        if (auto s = engine::load_workflow_string(yaml, "bench.yaml", diag))
            spec.emplace(std::move(*s));
        if (spec)
            if (auto g = engine::compile(*spec, &pol, diag))
                graph.emplace(std::move(*g));
        if (!graph)
            std::fprintf(stderr, "bench workflow: %s\n", diag.str().c_str());
        return graph.has_value();
    }

    engine::run_request request() const
    {
        engine::run_request req;
        req.spec = &*spec;
        req.graph = &*graph;
        req.definition = yaml;
        req.mix = "bench";
        return req;
    }

    engine::candidate_fn candidates() const
    {
        return [this](const engine::phase_spec& ph, std::int64_t tokens) {
            return engine::build_candidates(ph, pol, providers, tokens);
        };
    }
};

class null_sink final : public engine::event_sink
{
public:
    void on_event(const engine::run_event&) override {}
};

}  // namespace ep::bench
