#pragma once
// The OpenAI decoder's fast path (issue 3: >= 300 MB/s per core). Almost every chunk of a
// Chat Completions stream is a plain content delta, and building an nlohmann DOM for each
// one is what capped decoding near 100 MB/s. This recognises that shape with a validating
// scan that allocates nothing; any chunk it is not certain about goes to the full parse.

#include "protocols/codec.hpp"

#include <memory>
#include <string_view>

namespace ep::providers::sansio {

/// What the full parse of a recognised chunk would emit: one text_delta_event holding the
/// decoded `content`, or nothing when it is empty.
struct openai_fast_chunk
{
    std::string_view content;  // between the quotes, escapes not decoded yet (see `escaped`)
    bool escaped = false;
};

/// True when `data` (an SSE data field whose event type is not "error") is valid JSON of
/// the plain shape: an object whose "error"/"usage" are null or absent, whose "object" is
/// not "error", and whose "choices" holds at most one choice with index 0 (or none), a
/// null finish_reason and a delta whose "content" is a string or null, "refusal",
/// "tool_calls", "reasoning_content" and "reasoning" null or absent. Other keys, anywhere, are skipped (the full parse ignores
/// them too). False means "not sure": escaped keys, repeated keys we read (nlohmann keeps
/// the last), tool calls, usage, finish, errors, odd types, or anything invalid.
bool scan_openai_fast_chunk(std::string_view data, openai_fast_chunk& out) noexcept;

/// The decoder with the fast path switched off: every chunk goes through nlohmann. The
/// reference the differential tests compare make_openai_decoder() against.
std::unique_ptr<stream_decoder> make_openai_decoder_full_parse();

}  // namespace ep::providers::sansio
