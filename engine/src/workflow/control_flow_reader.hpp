#pragma once
// Reading a phase's control-flow keys (`when`, `needs_any`, `repeat`, `for_each`,
// `max_parallel`, `approval`, `budget`) and the run's `budget:`, with the checks that need only
// the phase itself. Graph checks (ancestry of repeat.from, nested loop bodies, what templates may
// read) are the compiler's.

#include "yaml/json_access.hpp"
#include "yaml/yaml_document.hpp"

#include <ep/engine/workflow.hpp>

#include <string>
#include <vector>

namespace ep::engine::detail {

/// Fills phase's control-flow fields from `p` (the phase's object at `pointer`), appending its
/// expressions to `expressions` (their indices go into the phase).
void read_control_flow(const yaml_document& doc, const json& p, const std::string& pointer, phase_spec& phase,
                       std::vector<expression_source>& expressions, diagnostics& diag);

/// `budget:` at `pointer` inside `obj`, if present.
std::optional<budget_spec> read_budget(const yaml_document& doc, const json& obj, const std::string& pointer);

/// Compiles the collected expressions, locating each problem inside its YAML string.
std::optional<expression_program> compile_expressions(const yaml_document& doc,
                                                      const std::vector<expression_source>& expressions,
                                                      diagnostics& diag);

}  // namespace ep::engine::detail
