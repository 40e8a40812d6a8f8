#pragma once
// JSON phase outputs (`output: {format: json, schema: …}`): extracting the JSON from a model's
// answer and validating it against the phase's JSON Schema (valijson).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ep::engine {

struct json_output_check
{
    std::optional<nlohmann::json> value;  // set when the answer parsed and satisfied the schema
    std::string json_text;                // the JSON text that was parsed (fence removed)
    std::string error;                    // why not, one paragraph, safe to show the model
};

/// Parses `answer` as JSON, tolerating surrounding whitespace and one ```json … ``` (or ```)
/// fence, then validates it against `schema` when given. Never throws.
json_output_check check_json_output(std::string_view answer, const std::optional<nlohmann::json>& schema);

/// The follow-up message of the single repair attempt: it quotes the validation error.
std::string json_repair_prompt(const json_output_check& failed, const std::optional<nlohmann::json>& schema);

}  // namespace ep::engine
