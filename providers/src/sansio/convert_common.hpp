#pragma once
// Helpers shared by the three conversation converters.

#include <ep/providers/convert.hpp>
#include <ep/providers/error.hpp>

#include "json_util.hpp"

#include <map>
#include <string>

namespace ep::providers::sansio {

/// The system prompt plus the text of role::system messages, joined with a blank line.
std::string merged_system(const conversation& c);

/// Appends `text` to `system` with a blank line between.
void append_system(std::string& system, const std::string& text);

/// Appends a tool result, merging it into the last message when that already holds results.
void push_tool_result(std::vector<message>& out, tool_result r);

/// Fills empty tool_result names from the tool calls seen earlier in the conversation.
void fill_result_names(std::vector<message>& messages);

/// Text of a content value that is a string or an array of {"type":"text","text":…} blocks.
std::string text_of_content(const json& content);

inline boost::system::error_code bad_shape() { return provider_errc::invalid_request; }

}  // namespace ep::providers::sansio
