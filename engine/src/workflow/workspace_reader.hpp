#pragma once
// Reading the workspace keys of a phase (`files`, `run`/`shell`/`cwd`/`env`/`allow_failure`/
// `network`, `tools`/`max_tool_rounds`, `gate`) and of the workflow (`git`, `test_command`),
// with the checks that need only the phase itself. The schema has checked the types already;
// what is left is the combinations it cannot express, each reported at FILE:LINE:COL.

#include "yaml/json_access.hpp"
#include "yaml/yaml_document.hpp"

#include <ep/engine/workflow.hpp>

#include <string>

namespace ep::engine::detail {

/// Fills the phase's workspace fields from `p` (the phase's object at `pointer`). A phase with
/// `run:` becomes a command phase (kind command, no persona).
void read_workspace_keys(const yaml_document& doc, const json& p, const std::string& pointer, phase_spec& phase,
                         diagnostics& diag);

/// The workflow's `git:` and `test_command:`, and the checks across phases (`run_tests` needs a
/// declared test command).
void read_workflow_workspace(const yaml_document& doc, const json& root, workflow_spec& spec, diagnostics& diag);

}  // namespace ep::engine::detail
