#pragma once
// A protocol-neutral view of one chat request: what the answer generator needs, parsed from
// the OpenAI, Anthropic or Gemini request body.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ep::emulator::detail {

struct tool_def
{
    std::string name;
    nlohmann::json schema;  ///< JSON Schema of the arguments (may be null)
};

struct chat_call
{
    std::string protocol;  ///< "openai", "anthropic", "gemini"
    std::string model;
    bool stream = false;
    bool include_usage = false;  ///< OpenAI stream_options.include_usage

    std::string system;             ///< all system text, joined
    std::string last_user_text;     ///< text of the last user turn
    bool last_is_tool_result = false;
    std::string tool_result_text;   ///< the tool output when last_is_tool_result

    std::vector<tool_def> tools;
    bool tools_disabled = false;              ///< tool_choice none / mode NONE
    std::optional<std::string> forced_tool;   ///< tool_choice naming one tool

    bool json_mode = false;
    nlohmann::json json_schema;  ///< null when JSON is asked for without a schema

    /// Thinking asked for (OpenAI reasoning_effort, Responses reasoning.effort, Anthropic
    /// thinking, Gemini thinkingConfig): the effort or budget as given.
    std::optional<std::string> reasoning;
    bool include_encrypted_reasoning = false;  ///< Responses include: reasoning.encrypted_content
    bool include_thoughts = false;             ///< Gemini thinkingConfig.includeThoughts

    /// Anthropic prompt caching: the characters of the prompt up to its last cache_control
    /// breakpoint and a hash of them (0 when nothing is marked).
    std::size_t cached_prefix_chars = 0;
    std::uint64_t cached_prefix_hash = 0;

    std::size_t input_chars = 0;  ///< for usage: ≈ chars / 4 tokens
};

/// Sum of the lengths of every string inside `value` (usage estimates).
std::size_t text_chars(const nlohmann::json& value);

/// Text of an OpenAI/Anthropic `content` that is a string or an array of text parts.
std::string content_text(const nlohmann::json& content);

}  // namespace ep::emulator::detail
