// --graph output (--explain is the router's explain_routing, see router.hpp).
#include <ep/engine/graph.hpp>

#include <ostream>

namespace ep::engine {

namespace {

std::string mermaid_escape(const std::string& s)
{
    std::string out;
    for (char c : s)
        out += c == '"' ? std::string("#quot;") : std::string(1, c);
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

}  // namespace

void write_graph(std::ostream& out, const workflow_spec& spec, const dag& graph, graph_format format)
{
    if (format == graph_format::mermaid)
    {
        out << "flowchart TD\n";
        for (auto i : graph.order())
        {
            const auto& p = spec.phases[i];
            out << "    " << p.id << "[\"" << mermaid_escape(p.id) << "<br/><i>" << mermaid_escape(p.persona.value)
                << "</i>\"]\n";
        }
        for (auto i : graph.order())
            for (auto d : graph.dependents(i))
                out << "    " << graph.id(i) << " --> " << graph.id(d) << "\n";
        return;
    }
    out << "digraph \"" << dot_escape(spec.name) << "\" {\n";
    out << "    rankdir=TB;\n    node [shape=box, style=rounded];\n";
    for (auto i : graph.order())
    {
        const auto& p = spec.phases[i];
        out << "    \"" << dot_escape(p.id) << "\" [label=\"" << dot_escape(p.id) << "\\n" << dot_escape(p.persona.value)
            << "\"];\n";
    }
    for (auto i : graph.order())
        for (auto d : graph.dependents(i))
            out << "    \"" << dot_escape(graph.id(i)) << "\" -> \"" << dot_escape(graph.id(d)) << "\";\n";
    out << "}\n";
}

}  // namespace ep::engine
