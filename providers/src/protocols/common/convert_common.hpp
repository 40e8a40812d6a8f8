#pragma once
// Helpers shared by the three conversation converters.

#include <ep/providers/convert.hpp>
#include <ep/providers/error.hpp>

#include "protocols/common/json_util.hpp"

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

/// One provider message being built (Anthropic `messages[]`, Gemini `contents[]`): consecutive
/// normalised messages that map to the same provider role are merged, and tool results come
/// first (Anthropic rejects text before the results of the previous turn's calls). The role is
/// taken per block, not per message, so a message that adds nothing (an assistant turn with
/// neither text nor calls) does not split the turns around it: roles alternate.
class pending_turn
{
public:
    pending_turn(std::string_view content_key, json& out) : key_(content_key), out_(out) {}

    /// A content block of `role`; a change of role ends the pending message first.
    void add_block(std::string_view role, json block);
    /// A tool result of `role` (it goes before the message's other blocks).
    void add_result(std::string_view role, json result);
    /// Appends {"role", key: results then blocks} to `out` when anything is pending.
    void flush();

private:
    void begin(std::string_view role);

    std::string_view key_;  // "content" or "parts"
    json& out_;
    std::string role_;
    json results_ = json::array();
    json blocks_ = json::array();
};

inline boost::system::error_code bad_shape() { return provider_errc::invalid_request; }

}  // namespace ep::providers::sansio
