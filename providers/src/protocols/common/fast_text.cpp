#include "protocols/common/fast_text.hpp"

#include "protocols/common/json_scan.hpp"
#include "protocols/common/json_util.hpp"

#include <charconv>

namespace ep::providers::sansio {

std::string fast_text::decoded() const
{
    if (!escaped)
        return std::string(raw);
    std::string out;
    append_unescaped(raw, out);
    return out;
}

namespace {

// A key the full parse reads, met for the first time. A second one gives up: nlohmann keeps
// the last value, and mirroring that is not worth it for a shape no server sends.
bool first(bool& seen) noexcept
{
    if (seen)
        return false;
    seen = true;
    return true;
}

// A string without escapes equal to `expected` (escaped ones would need decoding to compare).
bool exact_string(json_scanner& s, std::string_view expected) noexcept
{
    std::string_view v;
    bool escaped = false;
    return s.string(v, escaped) && !escaped && v == expected;
}

// Anthropic's {"type":"text_delta","text":"…"}.
bool text_delta_object(json_scanner& s, fast_text& out) noexcept
{
    bool type_seen = false, text_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "type")
            return first(type_seen) && exact_string(s, "text_delta");
        if (key == "text")
            return first(text_seen) && s.string(out.raw, out.escaped);
        return s.skip_value();
    }) && type_seen && text_seen;
}

// A content_block_delta event object. `check_type`: its "type" names the event (the CLI's
// stream_event lines); otherwise the SSE event name did and "type" is not read.
bool content_block_delta_object(json_scanner& s, bool check_type, fast_text& out) noexcept
{
    bool type_seen = false, delta_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "delta")
            return first(delta_seen) && text_delta_object(s, out);
        if (key == "type" && check_type)
            return first(type_seen) && exact_string(s, "content_block_delta");
        return s.skip_value();  // "index" (a text delta does not use it), and the unknown
    }) && delta_seen && (type_seen || !check_type);
}

// A plain integer as int_member reads it (no fraction or exponent: those go through a double).
bool integer(json_scanner& s, std::int64_t& out) noexcept
{
    std::string_view token;
    if (!s.number(token) || token.size() > 18 || token.find_first_of(".eE") != std::string_view::npos)
        return false;
    return std::from_chars(token.data(), token.data() + token.size(), out).ec == std::errc{};
}

// A usage counter the fast path takes: a plain integer within count_member's range. Anything
// else (negative, absurd) is left to the full parse, which reads it as not reported.
bool count(json_scanner& s, std::int64_t& out) noexcept
{
    return integer(s, out) && out >= 0 && out <= max_token_count;
}

bool gemini_usage(json_scanner& s, gemini_fast_chunk& out) noexcept
{
    bool prompt = false, thoughts = false, candidates = false, cached = false;
    out.usage_seen = true;
    return s.object([&](std::string_view key) {
        if (key == "promptTokenCount")
            return first(prompt) && count(s, out.prompt_tokens);
        if (key == "thoughtsTokenCount")
            return first(thoughts) && count(s, out.thoughts_tokens);
        if (key == "candidatesTokenCount")
            return first(candidates) && count(s, out.candidates_tokens);
        if (key == "cachedContentTokenCount")
            return first(cached) && count(s, out.cached_tokens);
        return s.skip_value();  // totalTokenCount, promptTokensDetails, …
    });
}

bool gemini_text_part(json_scanner& s, gemini_fast_chunk& out) noexcept
{
    if (out.part_count == gemini_fast_chunk::max_parts)
        return false;
    fast_text& text = out.parts[out.part_count++];
    bool text_seen = false, thought_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "text")
            return first(text_seen) && s.string(text.raw, text.escaped);
        if (key == "thought")  // a thought summary is reasoning: the full parse's job
            return first(thought_seen) && s.literal("false");
        if (key == "functionCall")
            return false;
        return s.skip_value();  // thoughtSignature, and the unknown
    });
}

bool gemini_candidate(json_scanner& s, gemini_fast_chunk& out) noexcept
{
    bool content_seen = false, finish_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "content")
        {
            bool parts_seen = false;
            return first(content_seen) && s.object([&](std::string_view k) {
                if (k == "parts")
                    return first(parts_seen) && s.array([&] { return gemini_text_part(s, out); });
                return s.skip_value();  // "role"
            });
        }
        if (key == "finishReason")  // the last chunk: the full parse finishes the stream
            return first(finish_seen) && s.literal("null");
        return s.skip_value();  // index, safetyRatings, citationMetadata, …
    });
}

}  // namespace

bool scan_anthropic_text_delta(std::string_view data, fast_text& out) noexcept
{
    out = {};
    json_scanner s(data);
    return content_block_delta_object(s, false, out) && s.at_end();
}

bool scan_claude_text_delta_line(std::string_view line, fast_text& out) noexcept
{
    out = {};
    json_scanner s(line);
    bool type_seen = false, event_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "type")
            return first(type_seen) && exact_string(s, "stream_event");
        if (key == "event")
            return first(event_seen) && content_block_delta_object(s, true, out);
        return s.skip_value();  // session_id, parent_tool_use_id, uuid, …
    }) && type_seen && event_seen && s.at_end();
}

bool scan_responses_text_delta(std::string_view data, fast_text& out) noexcept
{
    out = {};
    json_scanner s(data);
    bool delta_seen = false;
    return s.object([&](std::string_view key) {
        if (key == "delta")
            return first(delta_seen) && s.string(out.raw, out.escaped);
        return s.skip_value();  // type, sequence_number, item_id, output_index, logprobs, …
    }) && delta_seen && s.at_end();
}

bool scan_gemini_fast_chunk(std::string_view data, gemini_fast_chunk& out) noexcept
{
    out = {};
    json_scanner s(data);
    bool error_seen = false, usage_seen = false, candidates_seen = false;
    int candidates = 0;
    return s.object([&](std::string_view key) {
        if (key == "error")
            return first(error_seen) && s.literal("null");
        if (key == "usageMetadata")
            return first(usage_seen) && gemini_usage(s, out);
        if (key == "candidates")
            return first(candidates_seen) && s.array([&] {
                       // Only the first candidate is read; the others are validated and skipped.
                       return ++candidates == 1 ? gemini_candidate(s, out) : s.skip_value();
                   });
        return s.skip_value();  // modelVersion, responseId, promptFeedback (read only without candidates)
    }) && candidates > 0 && s.at_end();
}

}  // namespace ep::providers::sansio
