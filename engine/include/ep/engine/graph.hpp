#pragma once
// The DAG as a Mermaid or Graphviz diagram (`ep-run --graph`). (`--explain` is explain_routing in
// router.hpp.)

#include <ep/engine/dag.hpp>
#include <ep/engine/workflow.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace ep::engine {

enum class graph_format { mermaid, dot };
/// Writes the DAG, personas on the nodes. Control flow is drawn too: a `repeat:` loop as a dashed
/// back-edge from its owner to `from` labelled with `until` and max_iterations, `when` on the
/// edges into its phase (in the node when it has no needs), a for_each node marked `for each`
/// (Mermaid subroutine shape, Graphviz double border), an approval gate as a hexagon.
void write_graph(std::ostream& out, const workflow_spec& spec, const dag& graph, graph_format format);

/// The control flow of phase `phase`, one line each, for --explain: "when: EXPR", "needs_any",
/// "for each: EXPR (max_parallel N)", "approval gate: PROMPT (timeout T, default D)",
/// "loop: repeats FROM..ID until: EXPR (max_iterations N, on_exhausted X)", "in loop of ID",
/// "budget: ...". Empty for a plain phase.
std::vector<std::string> describe_control_flow(const workflow_spec& spec, const dag& graph, std::size_t phase);

}  // namespace ep::engine
