#pragma once
// Fast paths of the Anthropic, Claude Code CLI, Gemini and OpenAI Responses decoders (issue 16:
// each >= 300 MB/s). Almost every event of a stream is a plain text delta, and building an
// nlohmann DOM for each one is what held these decoders near 100 MB/s. Each scanner below
// recognises its protocol's plain text-delta shape with json_scanner (validating, no
// allocation); whatever it is not certain about goes to the full parse, as the OpenAI
// decoder's fast path does (openai/fast_chunk.hpp).
//
// Contract of every scanner: true only for text that nlohmann::json::parse accepts and on
// which the decoder's full handling has exactly the effect the fast path has (the text it
// emits, the state it sets). False means "not sure", never "invalid".

#include "protocols/codec.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ep::providers::sansio {

/// A JSON string as the scanner found it: the text between the quotes, escapes not decoded.
struct fast_text
{
    std::string_view raw;
    bool escaped = false;

    bool empty() const noexcept { return raw.empty(); }  // "" is the only raw text decoding to ""
    /// The decoded text, as nlohmann would give it.
    std::string decoded() const;
};

/// Anthropic: the data of an SSE event named content_block_delta whose delta is
/// {"type":"text_delta","text":"…"} (other members anywhere are skipped, as the full
/// handling ignores them). Repeated keys we read, escaped keys, other delta types: false.
bool scan_anthropic_text_delta(std::string_view data, fast_text& out) noexcept;

/// Claude Code CLI: a stream-json line {"type":"stream_event","event":{"type":
/// "content_block_delta","delta":{"type":"text_delta","text":"…"},…},…}.
bool scan_claude_text_delta_line(std::string_view line, fast_text& out) noexcept;

/// OpenAI Responses: the data of an SSE event named response.output_text.delta: an object
/// whose "delta" is a string.
bool scan_responses_text_delta(std::string_view data, fast_text& out) noexcept;

/// Gemini: a chunk with "error" null or absent, a first candidate whose content's parts are all
/// plain text (no "thought": true, no functionCall) and whose finishReason is null or absent,
/// and usageMetadata (if any) an object of integer counts.
struct gemini_fast_chunk
{
    static constexpr int max_parts = 8;
    fast_text parts[max_parts];
    int part_count = 0;
    bool usage_seen = false;  // usageMetadata was there: the totals are replaced by these
    std::int64_t prompt_tokens = 0;
    std::int64_t thoughts_tokens = 0;
    std::int64_t candidates_tokens = 0;
    std::int64_t cached_tokens = 0;
};
bool scan_gemini_fast_chunk(std::string_view data, gemini_fast_chunk& out) noexcept;

/// The decoders with their fast path off: every event through nlohmann. The references the
/// differential tests compare the ordinary decoders against.
std::unique_ptr<stream_decoder> make_anthropic_decoder_full_parse();
std::unique_ptr<stream_decoder> make_claude_stream_json_decoder_full_parse();
std::unique_ptr<stream_decoder> make_responses_decoder_full_parse();
std::unique_ptr<stream_decoder> make_gemini_decoder_full_parse(std::string call_id_prefix);

}  // namespace ep::providers::sansio
