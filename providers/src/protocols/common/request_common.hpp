#pragma once
// Pieces every request encoder shares: the target path, the standard headers, metadata.

#include <ep/providers/config.hpp>
#include <ep/providers/http_types.hpp>
#include <ep/providers/types.hpp>

#include <string>
#include <string_view>

namespace ep::providers::sansio {

/// base_path (trailing '/' removed) + suffix; an empty base gives suffix alone.
std::string join_path(std::string_view base_path, std::string_view suffix);

/// Content-Type/Accept for a streamed JSON call, then cfg.extra_headers, then one
/// `x-ep-<key>` header per request metadata entry (the emulator reads x-ep-persona; real
/// providers ignore unknown headers). Header values are stripped of CR/LF (no injection).
void add_common_headers(http_request& spec, const provider_config& cfg, const chat_request& req);

/// The system prompt: req.system followed by the text of any system-role messages.
std::string effective_system(const chat_request& req);

}  // namespace ep::providers::sansio
