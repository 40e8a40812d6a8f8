// Phase -> ordered failover candidates: the router's plan bound to the run's live providers.
#include <ep/engine/router.hpp>
#include <ep/engine/run/executor.hpp>

namespace ep::engine {

candidate_list build_candidates(const phase_spec& phase, const router& r, const provider_map& available,
                                std::int64_t prompt_tokens)
{
    const route_plan plan = r.route(make_route_request(phase, prompt_tokens));
    candidate_list out;
    if (!plan.ok())
    {
        out.error = plan.error_message;
        return out;
    }
    out.candidates = bind_candidates(plan, [&](const std::string& name) -> providers::provider* {
        auto it = available.find(name);
        return it == available.end() ? nullptr : it->second.get();
    });
    if (out.candidates.empty())
        out.error = "no provider of the routed candidates for persona '" + phase.persona.value +
                    "' was started (first choice: " + plan.candidates.front().str() + ")";
    return out;
}

candidate_list build_candidates(const phase_spec& phase, const policy& pol, const provider_map& available,
                                std::int64_t prompt_tokens)
{
    return build_candidates(phase, router(pol), available, prompt_tokens);
}

}  // namespace ep::engine
