// --graph output, and the control-flow lines --explain prints per phase (the routing part of
// --explain is the router's explain_routing, see router.hpp).
#include <ep/engine/graph.hpp>

#include <cstdio>
#include <ostream>

namespace ep::engine {

namespace {

// Mermaid labels are quoted: quotes, pipes and angle brackets of jq expressions become entities.
std::string mermaid_escape(const std::string& s)
{
    std::string out;
    for (char c : s)
    {
        switch (c)
        {
        case '"': out += "#quot;"; break;
        case '|': out += "#124;"; break;
        case '<': out += "#lt;"; break;
        case '>': out += "#gt;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string dot_escape(const std::string& s)
{
    std::string out;
    for (char c : s)
    {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

std::string number_text(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string duration_text(std::chrono::milliseconds d)
{
    const auto ms = d.count();
    if (ms % 3'600'000 == 0)
        return std::to_string(ms / 3'600'000) + "h";
    if (ms % 60'000 == 0)
        return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string loop_label(const repeat_spec& r)
{
    return "until: " + r.until.value + "\nmax_iterations: " + std::to_string(r.max_iterations);
}

std::string for_each_label(const for_each_spec& f)
{
    return "for each: " + f.expression.value + "\nmax_parallel: " + std::to_string(f.max_parallel);
}

// The lines of a node's label: id, persona (or "approval"), then what marks it.
std::vector<std::string> node_lines(const phase_spec& p, const dag& graph, std::size_t index)
{
    std::vector<std::string> lines{p.id, p.kind == phase_kind::approval ? std::string("approval") : p.persona.value};
    if (p.for_each)
        lines.push_back(for_each_label(*p.for_each));
    if (p.approval && !p.approval->prompt.empty())
        lines.push_back(p.approval->prompt);
    if (p.when && graph.needs(index).empty())
        lines.push_back("when: " + p.when->value);
    return lines;
}

std::string joined(const std::vector<std::string>& lines, const std::string& separator)
{
    std::string out;
    for (const auto& line : lines)
    {
        std::size_t start = 0;
        for (std::size_t nl; (nl = line.find('\n', start)) != std::string::npos; start = nl + 1)
            out += (out.empty() ? "" : separator) + line.substr(start, nl - start);
        out += (out.empty() ? "" : separator) + line.substr(start);
    }
    return out;
}

std::string mermaid_label(const std::vector<std::string>& lines)
{
    std::vector<std::string> escaped;
    for (const auto& l : lines)
        escaped.push_back(mermaid_escape(l));
    if (escaped.size() > 1)
        escaped[1] = "<i>" + escaped[1] + "</i>";
    return joined(escaped, "<br/>");
}

void write_mermaid(std::ostream& out, const workflow_spec& spec, const dag& graph)
{
    out << "flowchart TD\n";
    for (auto i : graph.order())
    {
        const auto& p = spec.phases[i];
        const auto label = "\"" + mermaid_label(node_lines(p, graph, i)) + "\"";
        if (p.kind == phase_kind::approval)
            out << "    " << p.id << "{{" << label << "}}\n";
        else if (p.for_each)
            out << "    " << p.id << "[[" << label << "]]\n";
        else
            out << "    " << p.id << "[" << label << "]\n";
    }
    for (auto i : graph.order())
        for (auto d : graph.dependents(i))
        {
            const auto& when = spec.phases[d].when;
            out << "    " << graph.id(i) << " -->"
                << (when ? "|\"" + mermaid_escape("when: " + when->value) + "\"|" : std::string()) << " "
                << graph.id(d) << "\n";
        }
    for (const auto& l : graph.loops())
    {
        const auto& owner = spec.phases[l.owner];
        out << "    " << owner.id << " -. \"" << joined({mermaid_escape(loop_label(*owner.repeat))}, "<br/>")
            << "\" .-> " << graph.id(l.from) << "\n";
    }
}

void write_dot(std::ostream& out, const workflow_spec& spec, const dag& graph)
{
    out << "digraph \"" << dot_escape(spec.name) << "\" {\n";
    out << "    rankdir=TB;\n    node [shape=box, style=rounded];\n";
    for (auto i : graph.order())
    {
        const auto& p = spec.phases[i];
        std::vector<std::string> escaped;
        for (const auto& l : node_lines(p, graph, i))
            escaped.push_back(dot_escape(l));
        out << "    \"" << dot_escape(p.id) << "\" [label=\"" << joined(escaped, "\\n") << "\"";
        if (p.kind == phase_kind::approval)
            out << ", shape=hexagon, style=solid";
        else if (p.for_each)
            out << ", peripheries=2";
        out << "];\n";
    }
    for (auto i : graph.order())
        for (auto d : graph.dependents(i))
        {
            out << "    \"" << dot_escape(graph.id(i)) << "\" -> \"" << dot_escape(graph.id(d)) << "\"";
            if (const auto& when = spec.phases[d].when)
                out << " [label=\"" << dot_escape("when: " + when->value) << "\"]";
            out << ";\n";
        }
    for (const auto& l : graph.loops())
    {
        const auto& owner = spec.phases[l.owner];
        out << "    \"" << dot_escape(owner.id) << "\" -> \"" << dot_escape(graph.id(l.from))
            << "\" [style=dashed, constraint=false, label=\"" << joined({dot_escape(loop_label(*owner.repeat))}, "\\n")
            << "\"];\n";
    }
    out << "}\n";
}

std::string budget_text(const budget_spec& b)
{
    std::string out;
    if (b.max_cost_usd)
        out += "max_cost_usd " + number_text(*b.max_cost_usd);
    if (b.max_tokens)
        out += (out.empty() ? "" : ", ") + std::string("max_tokens ") + std::to_string(*b.max_tokens);
    return out;
}

}  // namespace

void write_graph(std::ostream& out, const workflow_spec& spec, const dag& graph, graph_format format)
{
    if (format == graph_format::mermaid)
        write_mermaid(out, spec, graph);
    else
        write_dot(out, spec, graph);
}

std::vector<std::string> describe_control_flow(const workflow_spec& spec, const dag& graph, std::size_t phase)
{
    const auto& p = spec.phases.at(phase);
    std::vector<std::string> out;
    if (p.when)
        out.push_back("when: " + p.when->value + " (false or null: skipped)");
    if (p.needs_any)
        out.push_back("needs_any: runs when at least one need completed");
    if (p.for_each)
        out.push_back("for each: " + p.for_each->expression.value + " (max_parallel " +
                      std::to_string(p.for_each->max_parallel) + ")");
    if (const auto& a = p.approval)
    {
        std::string line = "approval gate: \"" + a->prompt + "\"";
        if (a->timeout)
            line += " (timeout " + duration_text(*a->timeout) + ", then " +
                    (a->default_approve ? (*a->default_approve ? "approve" : "reject") : std::string("fail")) + ")";
        out.push_back(line);
    }
    if (auto l = graph.loop_of_owner(phase))
    {
        const auto& r = *p.repeat;
        out.push_back("loop: " + graph.id(graph.loops()[*l].from) + " .. " + p.id + " again until: " + r.until.value +
                      " (max_iterations " + std::to_string(r.max_iterations) + ", on_exhausted " +
                      (r.fail_when_exhausted ? "fail" : "continue") + ")");
    }
    else if (auto inner = graph.innermost_loop(phase))
        out.push_back("in the loop of " + graph.id(graph.loops()[*inner].owner));
    if (p.budget)
        out.push_back("budget: " + budget_text(*p.budget));
    return out;
}

}  // namespace ep::engine
