// explain_routing (router.hpp): the router run over every phase, for `ep-run --explain`.
#include <ep/engine/graph.hpp>
#include <ep/engine/router.hpp>

#include <algorithm>

namespace ep::engine {

namespace {

/// About 4 characters per token, as estimate_prompt_tokens does for a rendered request.
std::int64_t estimate_template_tokens(const phase_spec& phase, const persona_spec* persona)
{
    std::size_t chars = phase.prompt.value.size();
    if (phase.system)
        chars += phase.system->value.size();
    else if (persona)
        chars += persona->system.size();
    return static_cast<std::int64_t>((chars + 3) / 4);
}

// `run: [a, b]` as "a b"; `run: "…"` with shell: true as its script.
std::string command_text(const command_decl& c)
{
    if (c.shell)
        return c.script;
    std::string text;
    for (const auto& arg : c.argv)
        text += (text.empty() ? "" : " ") + arg;
    return text;
}

std::string pad(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s;
}

}  // namespace

bool routing_explanation::all_routable() const
{
    return std::all_of(phases.begin(), phases.end(), [](const phase_routing& p) { return p.gate || !p.command.empty() || p.plan.ok(); });
}

routing_explanation explain_routing(const workflow_spec& spec, const dag& graph, const policy& pol,
                                    const ep::environment& env, const circuit_registry* circuits)
{
    routing_explanation out;
    out.workflow = spec.name;
    out.mix = pol.mix.name;
    out.mix_description = pol.mix.description;
    out.default_provider = env.get("EP_DEFAULT_PROVIDER");
    for (const auto& w : pol.warnings.items())
        out.warnings.push_back(w.str());
    const router r(pol, out.default_provider);

    std::size_t position = 0;
    for (const std::size_t index : graph.order())
    {
        const phase_spec& phase = spec.phases.at(index);
        phase_routing row;
        row.run_position = ++position;
        row.level = graph.level_of(index);
        row.phase = phase.id;
        row.persona = phase.persona.value;
        row.flow = describe_control_flow(spec, graph, index);
        row.gate = phase.kind == phase_kind::approval;
        if (phase.kind == phase_kind::command && phase.command)
            row.command = command_text(*phase.command);
        if (!row.gate && row.command.empty())
        {
            auto req = make_route_request(phase, estimate_template_tokens(phase, pol.find_persona(phase.persona.value)));
            req.circuits = circuits;
            row.plan = r.route(req);
        }
        out.phases.push_back(std::move(row));
    }
    return out;
}

void write_routing_explanation(std::ostream& out, const routing_explanation& e)
{
    out << "workflow " << e.workflow << " · mix " << e.mix;
    if (!e.mix_description.empty())
        out << " (" << e.mix_description << ")";
    out << "\n";
    if (e.default_provider)
        out << "EP_DEFAULT_PROVIDER=" << *e.default_provider << "\n";
    for (const auto& w : e.warnings)
        out << "warning: " << w << "\n";

    for (const auto& row : e.phases)
    {
        out << "\n" << row.run_position << ". " << row.phase << " [level " << row.level << "] "
            << (row.gate                ? std::string("approval gate")
                : !row.command.empty() ? std::string("command")
                                       : "persona " + (row.persona.empty() ? std::string("(none)") : row.persona))
            << "\n";
        for (const auto& line : row.flow)
            out << "   " << line << "\n";
        if (row.gate)
        {
            out << "   routing   none: a person decides (ep-run --approve|--reject RUN_ID " << row.phase << ")\n";
            continue;
        }
        if (!row.command.empty())
        {
            out << "   routing   none: runs `" << row.command << "` in the workspace\n";
            continue;
        }
        const auto& plan = row.plan;
        if (!plan.ok())
        {
            out << (plan.ec == router_errc::pinned_model_unusable ? "   PINNED MODEL UNUSABLE: " : "   UNROUTABLE: ");
            for (char c : plan.error_message)
                out << c << (c == '\n' ? "     " : "");
            out << "\n";
            continue;
        }
        out << "   chosen    " << pad(plan.candidates.front().str(), 36) << plan.candidates.front().reason << "\n";
        for (std::size_t i = 1; i < plan.candidates.size(); ++i)
            out << "   fallback " << i << " " << pad(plan.candidates[i].str(), 36) << plan.candidates[i].reason << "\n";
        for (const auto& d : plan.dropped)
            out << "   dropped   " << pad(d.str(), 36) << d.reason << "\n";
    }
}

}  // namespace ep::engine
