#pragma once
// Deterministic, persona-aware answers: the same request always gets the same answer, so
// tests can assert on it; different personas answer in their own shape.

#include "chat_call.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::emulator::detail {

/// FNV-1a 64: stable across platforms and runs (std::hash is not).
std::uint64_t stable_hash(std::string_view text) noexcept;

/// "architect", "code_writer", "reviewer", "qa", "requirements", "docs" or "assistant".
/// The header value wins when it is given; otherwise the role named first in the system
/// prompt ("You are a QA engineer" → qa, even though "engineer" also appears).
std::string detect_persona(std::string_view header_value, std::string_view system_prompt);

struct tool_call_answer
{
    std::string id;
    std::string name;
    nlohmann::json arguments;  ///< an object satisfying the tool's schema
};

struct answer
{
    std::string persona;
    std::string text;                          ///< empty when tool_call is set
    std::optional<tool_call_answer> tool_call;
    int input_tokens = 0;
    int output_tokens = 0;                     ///< of the text or tool call; reasoning_tokens come on top
    std::uint64_t seed = 0;                    ///< hash of the last user message
    std::string thinking;                      ///< when reasoning was asked for: the "thoughts"
    int reasoning_tokens = 0;                  ///< their count (more for a higher effort)
    int cache_read_tokens = 0;                 ///< of input_tokens, read from the prompt cache
    int cache_creation_tokens = 0;             ///< of input_tokens, written to the prompt cache
};

/// The signature the emulator gives a thinking text (Anthropic `signature`) or a Gemini
/// functionCall part (thoughtSignature); it checks them when they come back.
std::string thinking_signature(std::string_view thinking);

/// The answer to `call` from `persona` via `call.protocol`.
answer make_answer(const chat_call& call, const std::string& persona);

/// A value fitting a simple JSON Schema (object/array/string/number/integer/boolean/enum;
/// anyOf/oneOf take the first branch; Gemini's upper-case type names accepted).
nlohmann::json fill_schema(const nlohmann::json& schema, const std::string& label, std::uint64_t seed,
                           int depth = 0);

/// Splits text into small pieces of about one token each (a word with its trailing space),
/// the unit of streaming and pacing.
std::vector<std::string> split_tokens(std::string_view text, std::size_t max_piece = 12);

/// ≈ chars / 4, at least 1.
int estimate_tokens(std::size_t chars) noexcept;

}  // namespace ep::emulator::detail
