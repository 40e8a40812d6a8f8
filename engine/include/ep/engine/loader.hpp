#pragma once
// Loading a workflow: read (size/encoding/nesting guards) → YAML parse (duplicate keys are
// errors) → JSON Schema validation (schemas/workflow.schema.json, valijson) → workflow_spec.
// Every problem is collected into `diag` as FILE:LINE:COL with a "did you mean …?" where one
// fits; the loader never throws for bad input and never crashes on any byte sequence.

#include <ep/engine/diagnostics.hpp>
#include <ep/engine/workflow.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ep::engine {

struct load_limits
{
    std::size_t max_file_bytes = 8u << 20;  // larger files are rejected before reading
    int max_depth = 64;                     // nesting of collections (pre-scanned, then enforced)
    std::size_t max_nodes = 1'000'000;      // after alias expansion (guards "billion laughs");
                                            // also at most 10,000 + 4 per byte of text
};

/// Errors: workflow_errc::io_error (cannot read), workflow_errc::invalid_workflow (see diag).
boost::system::result<workflow_spec> load_workflow_file(const std::filesystem::path& path, diagnostics& diag,
                                                        const load_limits& limits = {});

/// Same, from text; `display_name` is used as FILE in the diagnostics.
boost::system::result<workflow_spec> load_workflow_string(std::string_view text, std::string display_name,
                                                          diagnostics& diag, const load_limits& limits = {});

/// Like the above, but returns whatever could be read even when `diag` got errors (nullopt only
/// when nothing could be parsed), so that later stages (compile) can report their errors too.
std::optional<workflow_spec> load_workflow_file_partial(const std::filesystem::path& path, diagnostics& diag,
                                                        const load_limits& limits = {});
std::optional<workflow_spec> load_workflow_string_partial(std::string_view text, std::string display_name,
                                                          diagnostics& diag, const load_limits& limits = {});

/// Names of the embedded JSON Schemas: "workflow", "personas", "capabilities", "mix", "events".
/// Returns the schema text (the build embeds schemas/*.schema.json), or empty if unknown.
std::string_view embedded_schema(std::string_view name);

}  // namespace ep::engine
