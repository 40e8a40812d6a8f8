#pragma once
// The DAG as a Mermaid or Graphviz diagram (`ep-run --graph`). (`--explain` is explain_routing in
// router.hpp.)

#include <ep/engine/dag.hpp>
#include <ep/engine/workflow.hpp>

#include <ostream>

namespace ep::engine {

enum class graph_format { mermaid, dot };
/// Writes the DAG, personas on the nodes.
void write_graph(std::ostream& out, const workflow_spec& spec, const dag& graph, graph_format format);

}  // namespace ep::engine
