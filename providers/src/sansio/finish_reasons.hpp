#pragma once
// Provider finish/stop reasons → the normalised finish_reason.

#include <ep/providers/types.hpp>

#include <string_view>

namespace ep::providers::sansio {

finish_reason map_openai_finish(std::string_view raw) noexcept;     // stop, length, tool_calls, …
finish_reason map_anthropic_stop(std::string_view raw) noexcept;    // end_turn, max_tokens, tool_use, …
finish_reason map_gemini_finish(std::string_view raw) noexcept;     // STOP, MAX_TOKENS, SAFETY, …

}  // namespace ep::providers::sansio
