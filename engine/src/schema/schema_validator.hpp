#pragma once
// Validates a yaml_document against one of the embedded JSON Schemas with valijson and turns
// valijson's results into short located messages. Unknown keys and key-name patterns are found
// by walking the schema (valijson reports only the first unknown key of an object, and reports
// no message at all for `propertyNames`), which also gives "did you mean …?".

#include "yaml/yaml_document.hpp"

#include <ep/engine/diagnostics.hpp>

#include <string_view>

namespace ep::engine::detail {

/// `schema_name`: "workflow", "personas", "capabilities" or "mix". Returns true when valid.
bool validate_against_schema(const yaml_document& doc, std::string_view schema_name, diagnostics& diag);

}  // namespace ep::engine::detail
