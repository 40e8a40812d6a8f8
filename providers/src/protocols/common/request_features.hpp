#pragma once
// How the encoders express the request features that differ by provider and model —
// structured output, reasoning effort — so that every protocol decides the same way.
//
// Per-model behaviour comes from capability flags (provider or model `capabilities` in
// capabilities.yaml):
//   json_via_prompt   the model has no native schema-constrained output: the schema goes into
//                     the system prompt (json_instruction) instead;
//   thinking_budget   the model takes a reasoning token budget (Anthropic
//                     thinking.type "enabled" + budget_tokens, Gemini 2.5 thinkingBudget)
//                     rather than a level (Anthropic adaptive + effort, Gemini 3 thinkingLevel).

#include <ep/providers/config.hpp>
#include <ep/providers/types.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ep::providers::sansio {

/// The provider or the model `model` lists `capability`.
bool has_capability(const provider_config& cfg, const std::string& model, std::string_view capability);

/// Structured output is sent natively (not as a prompt instruction) for this model.
bool native_json(const provider_config& cfg, const std::string& model);

/// The fallback: an instruction for the system prompt asking for one JSON value (and the
/// schema it must validate against, when there is one).
std::string json_instruction(const json_output& j);

/// OpenAI strict mode accepts the schema: every object in it (nested ones too) has
/// additionalProperties: false and lists all its properties in `required`.
bool schema_allows_strict(const nlohmann::json& schema);

/// A copy of `schema` in which every object without `additionalProperties` gets it set to
/// false (Anthropic's structured outputs require closed objects; forbidding unknown
/// properties only narrows what the model may produce, never what the schema accepts).
nlohmann::json closed_schema(const nlohmann::json& schema);

/// The thinking budget (tokens) for models that take one: low 2048, medium 8192, high 24576.
int thinking_budget_tokens(reasoning_effort effort) noexcept;

}  // namespace ep::providers::sansio
