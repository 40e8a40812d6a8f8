#pragma once
// Reading personas, providers and preferences out of schema-checked documents (personas.yaml,
// capabilities.yaml, a mix, a workflow's inline sections). Each reader sets only the fields a
// document gives, so the same code reads a shipped definition and an inline override of it.

#include "yaml/json_access.hpp"
#include "yaml/yaml_document.hpp"

#include <ep/engine/policy.hpp>

#include <map>
#include <string>
#include <vector>

namespace ep::engine::detail {

/// What capabilities.yaml says about a provider beyond provider_config.
struct provider_extras
{
    bool key_required = true;  // false: `auth: none`
    source_location where;     // the provider's key, for errors
};

std::vector<provider_preference> read_preferences(const yaml_document& doc, const json& v, const std::string& pointer);

/// Reads `section` (an object of persona name -> persona) into `out`, merging over entries
/// already there.
void read_personas(const yaml_document& doc, const std::string& section, std::map<std::string, persona_spec>& out);

/// Reads `section` (an object of provider name -> provider) into `out`: fields given replace,
/// models merge by id (added, or replaced field by field); limits and extras likewise. The
/// options of the provider's type are read by providers::parse_type_options; one given for
/// another type is reported in `diag`.
void read_providers(const yaml_document& doc, const std::string& section,
                    std::map<std::string, ep::providers::provider_config>& out,
                    std::map<std::string, provider_extras>& extras,
                    std::map<std::string, provider_limit_config>& limits, diagnostics& diag);

}  // namespace ep::engine::detail
