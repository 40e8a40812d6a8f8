#pragma once
// Normalised, provider-neutral chat types. Every adapter converts from/to these; the engine
// only ever sees these. Nothing here depends on Asio or on any wire format.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
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

    friend bool operator==(const text_part&, const text_part&) = default;
};

using content_part = std::variant<text_part, tool_call, tool_result>;

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
struct json_output
{
    std::optional<nlohmann::json> schema;
    std::string schema_name = "output";
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
};

enum class finish_reason { stop, length, tool_calls, content_filter, other };

const char* to_string(finish_reason r) noexcept;
const char* to_string(role r) noexcept;

struct usage
{
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t cached_input_tokens = 0;  // included in input_tokens
    std::optional<double> cost_usd;        // only when the provider reports it (Claude Code CLI)
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
/// The terminal event of a successful stream. Nothing follows it.
struct finish_event
{
    finish_reason reason = finish_reason::stop;
    std::string raw_reason;  // the provider's own value, e.g. "end_turn", "MAX_TOKENS"
};

using stream_event =
    std::variant<text_delta_event, tool_call_delta_event, tool_call_complete_event, usage_event, finish_event>;

/// Everything one call produced, aggregated from the stream.
struct chat_response
{
    std::string text;
    std::vector<tool_call> tool_calls;
    usage totals;
    finish_reason reason = finish_reason::stop;
    std::string raw_reason;
    std::string model;  // the model that answered

    /// Folds one event into the aggregate. Returns true for the terminal finish event.
    bool apply(const stream_event& ev);
    /// The answer as an assistant message (text, then tool calls) to continue a conversation.
    message to_message() const;
};

}  // namespace ep::providers
