#include "finish_reasons.hpp"

namespace ep::providers::sansio {

finish_reason map_openai_finish(std::string_view raw) noexcept
{
    if (raw == "stop")
        return finish_reason::stop;
    if (raw == "length")
        return finish_reason::length;
    if (raw == "tool_calls" || raw == "function_call")
        return finish_reason::tool_calls;
    if (raw == "content_filter")
        return finish_reason::content_filter;
    return finish_reason::other;
}

finish_reason map_anthropic_stop(std::string_view raw) noexcept
{
    if (raw == "end_turn" || raw == "stop_sequence")
        return finish_reason::stop;
    // model_context_window_exceeded: the answer was cut by the window, like max_tokens.
    if (raw == "max_tokens" || raw == "model_context_window_exceeded")
        return finish_reason::length;
    if (raw == "tool_use")
        return finish_reason::tool_calls;
    if (raw == "refusal")
        return finish_reason::content_filter;
    return finish_reason::other;  // pause_turn and anything newer
}

finish_reason map_gemini_finish(std::string_view raw) noexcept
{
    if (raw == "STOP")
        return finish_reason::stop;
    if (raw == "MAX_TOKENS")
        return finish_reason::length;
    if (raw == "SAFETY" || raw == "RECITATION" || raw == "BLOCKLIST" || raw == "PROHIBITED_CONTENT" ||
        raw == "SPII" || raw == "IMAGE_SAFETY" || raw == "LANGUAGE" || raw == "IMAGE_PROHIBITED_CONTENT" ||
        raw == "IMAGE_RECITATION")
        return finish_reason::content_filter;
    return finish_reason::other;  // MALFORMED_FUNCTION_CALL, OTHER, FINISH_REASON_UNSPECIFIED, …
}

}  // namespace ep::providers::sansio
