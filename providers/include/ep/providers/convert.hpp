#pragma once
// Conversion of a whole conversation (system prompt, text, tool calls, tool results,
// reasoning blocks) between the normalised types and the OpenAI Chat Completions, OpenAI
// Responses, Anthropic Messages and Gemini `generateContent` JSON formats, so a conversation
// started on one provider can continue on another. The request encoders use the to_*
// functions.
//
// Normalised form produced by every from_* function:
//   - the system prompt is in conversation::system (system-role messages are merged into it);
//   - tool results are role::tool messages holding only tool_result parts; consecutive
//     results form one message; a provider message holding results and text becomes a
//     role::tool message followed by a role::user message;
//   - tool_call::arguments is JSON text ("" means {});
//   - tool_result::name is filled from the matching call when the format lacks it (OpenAI,
//     Anthropic); ids missing in Gemini are made up ("gemini_call_<n>", unique in the
//     conversation) and results are paired with the oldest unanswered call of that name.
// The to_* functions accept role::system messages (merged into the system prompt) and tool
// results inside role::user messages too.
//
// Reasoning: a thinking_part goes back only to the protocol that produced it (Anthropic
// thinking / redacted_thinking blocks with their signature, first in the assistant turn;
// Responses reasoning items with their encrypted content); Gemini's thoughtSignature travels
// on its functionCall part as tool_call::signature. Every other protocol drops them, which is
// what the providers expect of a conversation that moved.
//
// Known losses: OpenAI Chat has no place for tool_result::is_error or reasoning (dropped);
// Anthropic and Gemini need tool arguments as a JSON object, so non-object argument text
// travels as {"arguments": "<text>"}; Anthropic/Gemini merge consecutive same-role messages;
// Gemini signatures on text parts (optional to return) are not kept.

#include <ep/providers/types.hpp>

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ep::providers {

struct conversation
{
    std::string system;
    std::vector<message> messages;

    friend bool operator==(const conversation&, const conversation&) = default;
};

/// The `messages` array of a Chat Completions request; the system prompt, when present, is
/// its first element (role "system").
nlohmann::json to_openai_messages(const conversation& c);
/// Reads a `messages` array (roles system/developer/user/assistant/tool). invalid_request if
/// it is not an array of objects with a known role.
boost::system::result<conversation> from_openai_messages(const nlohmann::json& messages);

/// `{"system": "...", "messages": [...]}` for a Messages request ("system" omitted when empty).
/// Roles alternate; tool_result blocks come first in their user message.
nlohmann::json to_anthropic_messages(const conversation& c);
/// Reads an object with "messages" (and optional "system", a string or text blocks).
boost::system::result<conversation> from_anthropic_messages(const nlohmann::json& body);

/// `{"systemInstruction": {"parts":[{"text":…}]}, "contents": [...]}` for generateContent
/// (systemInstruction omitted when empty); roles user/model; results as functionResponse
/// parts in role user, `{"output": …}` or `{"error": …}`.
nlohmann::json to_gemini_messages(const conversation& c);
/// Reads an object with "contents" (and optional "systemInstruction").
boost::system::result<conversation> from_gemini_messages(const nlohmann::json& body);

/// `{"instructions": "...", "input": [...]}` for a Responses request ("instructions" omitted
/// when empty): message items, function_call / function_call_output items, reasoning items.
nlohmann::json to_responses_input(const conversation& c);
/// Reads an object with "input" (a string or items) and optional "instructions".
boost::system::result<conversation> from_responses_input(const nlohmann::json& body);

/// The conversation of a request (its system prompt and messages), for the to_* functions.
conversation conversation_of(const chat_request& req);

}  // namespace ep::providers
