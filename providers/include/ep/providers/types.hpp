#pragma once
// Normalised, provider-neutral chat types. Every adapter converts from/to these; the engine
// only ever sees these. Nothing here depends on Asio or on any wire format.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ep::providers {

enum class role { system, user, assistant, tool };

/// A tool call the model asked for. `arguments` is the JSON text exactly as the model produced
/// it (it may be invalid JSON: the model produces it token by token and the OpenAI docs warn
/// that it may not parse), so it is kept as a string.
struct tool_call
{
    std::string id;    // provider id, or one we made up (Gemini often sends none)
    std::string name;
    std::string arguments;  // JSON text; empty means {}
    /// Gemini's thoughtSignature of the functionCall part: opaque, and required back
    /// unchanged with the call in the next request of a thinking model (Gemini 3 answers 400
    /// without it). Empty for the other protocols, which do not use it.
    std::string signature = {};

    friend bool operator==(const tool_call&, const tool_call&) = default;
};

/// The answer to one tool call, sent back in the next request.
struct tool_result
{
    std::string tool_call_id;
    std::string name;      // Gemini pairs results by function name
    std::string content;   // text or JSON text
    bool is_error = false;

    friend bool operator==(const tool_result&, const tool_result&) = default;
};

struct text_part
{
    std::string text;
    /// A prompt-cache breakpoint hint (the engine sets it on `context:` blocks): with
    /// chat_request::cache enabled, Anthropic caches the request up to and including this
    /// block when it is at least cache_options::min_chars long. Other protocols ignore it.
    bool cache = false;

    friend bool operator==(const text_part&, const text_part&) = default;
};

/// A block of the model's reasoning that its provider requires back, unchanged, in the next
/// request of a multi-turn tool conversation. Never part of the answer text, never shown.
/// Only the protocol that produced it can read it; converters to other protocols drop it.
struct thinking_part
{
    std::string protocol = {};   // "anthropic" or "openai_responses"
    std::string text = {};       // the thinking text (Anthropic) or reasoning summary (Responses)
    std::string signature = {};  // Anthropic `signature`; Responses `encrypted_content`
    std::string redacted = {};   // Anthropic redacted_thinking `data` (then `text` is empty)
    std::string id = {};         // Responses reasoning item id

    friend bool operator==(const thinking_part&, const thinking_part&) = default;
};

using content_part = std::variant<text_part, tool_call, tool_result, thinking_part>;

struct message
{
    role who = role::user;
    std::vector<content_part> parts;

    static message system_text(std::string text);
    static message user_text(std::string text);
    static message assistant_text(std::string text);
    /// All text parts joined (tool calls and results are skipped).
    std::string text() const;

    friend bool operator==(const message&, const message&) = default;
};

/// A function tool offered to the model; `parameters` is a JSON Schema object.
struct tool_spec
{
    std::string name;
    std::string description;
    nlohmann::json parameters = nlohmann::json::object();
};

struct tool_choice
{
    enum class mode { auto_, none, required, named };
    mode kind = mode::auto_;
    std::string name;  // for mode::named
};

/// Ask the model for JSON output, optionally constrained by a schema.
///
/// Sent natively where the provider has schema-constrained output — OpenAI
/// `response_format: {type: json_schema, json_schema: {name, schema, strict}}` (strict only
/// when the schema allows it: every object closed with additionalProperties: false and all
/// its properties required), the Responses API's `text.format`, Anthropic
/// `output_config.format` (json_schema; objects sent closed), Gemini `responseMimeType:
/// application/json` + `responseJsonSchema` — and as an instruction in the system prompt for
/// models whose catalogue entry (or provider) lists the capability `json_via_prompt`, and
/// always for the Claude Code CLI. Either way the caller still validates the answer.
struct json_output
{
    std::optional<nlohmann::json> schema;
    std::string schema_name = "output";  // OpenAI's json_schema.name: [a-zA-Z0-9_-], ≤ 64 chars
};

/// How hard a reasoning model thinks before it answers.
enum class reasoning_effort { low, medium, high };

/// Prompt caching (Anthropic; OpenAI and Gemini cache prefixes on their own, and report it).
struct cache_options
{
    /// Mark the system prompt and every text_part with `cache` set with `cache_control:
    /// {type: ephemeral}` (at most 4 breakpoints: the last ones win) when they are long enough.
    bool enabled = true;
    /// Shorter blocks are not marked: Anthropic caches nothing under 1,024–4,096 tokens
    /// (by model), and a cache write costs 25 % more than plain input. ≈ 1,024 tokens.
    std::size_t min_chars = 4096;
};

struct chat_request
{
    std::string model;
    std::string system;              // top-level system prompt (may be empty)
    std::vector<message> messages;   // system-role messages here are merged into `system` by adapters
    std::optional<int> max_tokens;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::vector<std::string> stop;
    std::vector<tool_spec> tools;
    std::optional<tool_choice> choice;
    std::optional<json_output> json_mode;
    std::map<std::string, std::string> metadata;  // e.g. persona, phase, run_id (sent as a header to the emulator)

    /// Reasoning (thinking) effort, mapped to each provider's current control:
    ///   OpenAI Chat `reasoning_effort`; Responses `reasoning: {effort}` (+ encrypted
    ///   reasoning kept for the next turn); Anthropic `thinking: {type: adaptive}` +
    ///   `output_config: {effort}`, or `thinking: {type: enabled, budget_tokens}` (2,048 /
    ///   8,192 / 24,576, added to max_tokens) for models with the capability
    ///   `thinking_budget`; Gemini `thinkingConfig: {thinkingLevel}`, or `thinkingBudget`
    ///   (same budgets) for `thinking_budget` models, with `includeThoughts` on.
    /// With it set, temperature and top_p are not sent (reasoning models reject them), and
    /// Anthropic thinking is left off when a tool choice is forced (the API refuses both).
    /// Reasoning text is delivered as reasoning_delta_event (never as answer text); its
    /// tokens are in usage::output_tokens (priced as output) and usage::reasoning_tokens.
    /// Set it only for models that reason (catalogue capability `reasoning`): OpenAI answers
    /// 400 to a reasoning control on other models. Not used by the Claude Code CLI.
    std::optional<reasoning_effort> reasoning;

    /// Prompt caching; on by default (see cache_options).
    cache_options cache;

    /// The first-token limit for this call (a phase's setting): request sent → first
    /// content from the model (text, reasoning or a tool call). Unset: the provider's
    /// timeouts.first_token. Calls with `reasoning` set on models that do not stream their
    /// reasoning (OpenAI Chat) may need a larger one.
    std::optional<std::chrono::milliseconds> first_token_timeout;
};

enum class finish_reason { stop, length, tool_calls, content_filter, other };

const char* to_string(finish_reason r) noexcept;
const char* to_string(role r) noexcept;
const char* to_string(reasoning_effort e) noexcept;  // "low", "medium", "high"
/// "low" | "medium" | "high" → the effort; nullopt otherwise.
std::optional<reasoning_effort> parse_reasoning_effort(std::string_view text) noexcept;

/// Token counts of one call. The parts are included in the totals, so cost is:
///   (input − cached − cache_creation) × input price + cached × cache-read price
///   + cache_creation × cache-write price + output × output price.
struct usage
{
    std::int64_t input_tokens = 0;   // every prompt token, cached or not
    std::int64_t output_tokens = 0;  // every generated token, reasoning included
    /// Prompt tokens read from the provider's cache (OpenAI cached_tokens, Anthropic
    /// cache_read_input_tokens, Gemini cachedContentTokenCount); included in input_tokens.
    std::int64_t cached_input_tokens = 0;
    std::optional<double> cost_usd;  // only when the provider reports it (Claude Code CLI)
    // (The fields below come after cost_usd so that {in, out, cached, cost} still initialises.)
    /// Prompt tokens written to the cache (Anthropic cache_creation_input_tokens, priced at
    /// 1.25× input for the 5-minute cache); included in input_tokens.
    std::int64_t cache_creation_input_tokens = 0;
    /// Reasoning/thinking tokens (OpenAI reasoning_tokens, Gemini thoughtsTokenCount);
    /// included in output_tokens. 0 where the provider does not report them apart
    /// (Anthropic counts thinking inside output_tokens).
    std::int64_t reasoning_tokens = 0;
};

// ---- stream events ---------------------------------------------------------------------

struct text_delta_event
{
    std::string text;
};
/// A fragment of a tool call. The first fragment of each index carries id and name.
struct tool_call_delta_event
{
    int index = 0;
    std::string id;
    std::string name;
    std::string arguments_fragment;
};
/// A tool call whose arguments are complete (emitted at block stop / finish).
struct tool_call_complete_event
{
    int index = 0;
    tool_call call;
};
struct usage_event
{
    usage totals;  // cumulative totals so far; the last one wins
};
/// Reasoning text as it streams (Anthropic thinking, Gemini thought summaries, Responses
/// reasoning summaries, compatible servers' reasoning_content). Never part of the answer.
struct reasoning_delta_event
{
    std::string text;
};
/// A finished reasoning block to carry into the next request of the conversation.
struct thinking_block_event
{
    thinking_part block;
};
/// The terminal event of a successful stream. Nothing follows it.
struct finish_event
{
    finish_reason reason = finish_reason::stop;
    std::string raw_reason;  // the provider's own value, e.g. "end_turn", "MAX_TOKENS"
};

using stream_event = std::variant<text_delta_event, tool_call_delta_event, tool_call_complete_event, usage_event,
                                  finish_event, reasoning_delta_event, thinking_block_event>;

/// Everything one call produced, aggregated from the stream.
struct chat_response
{
    std::string text;
    std::string reasoning;                // reasoning text received; not part of `text`
    std::vector<thinking_part> thinking;  // blocks to send back (to_message puts them first)
    std::vector<tool_call> tool_calls;
    usage totals;
    finish_reason reason = finish_reason::stop;
    std::string raw_reason;
    std::string model;  // the model that answered

    /// Folds one event into the aggregate. Returns true for the terminal finish event.
    bool apply(const stream_event& ev);
    /// The answer as an assistant message (thinking blocks, text, then tool calls) to continue
    /// a conversation.
    message to_message() const;
};

}  // namespace ep::providers
