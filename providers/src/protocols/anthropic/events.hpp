#pragma once
// The Anthropic Messages stream event logic (Anthropic docs: Streaming Messages), shared by
// the SSE decoder and the Claude Code stream-json decoder (whose `stream_event` lines carry
// the same events).

#include "protocols/codec.hpp"
#include "protocols/common/json_util.hpp"
#include "protocols/common/tool_call_accumulator.hpp"

#include <map>

namespace ep::providers::sansio {

class anthropic_event_mapper
{
public:
    /// `text_only`: emit text and reasoning deltas only (the Claude Code CLI runs tools
    /// itself and keeps its own thinking, so its tool_use and thinking blocks are not ours;
    /// usage and finish come from its `result` line) and ignore error events (the CLI
    /// retries, then reports in `result`).
    explicit anthropic_event_mapper(bool text_only = false) : text_only_(text_only) {}

    /// One event; `name` is the SSE event name (empty → the JSON `type`). Unknown events
    /// and `ping` are skipped. Returns an error for an `error` event.
    boost::system::error_code handle(std::string_view name, const json& j, std::vector<stream_event>& out,
                                     diagnostics& diag);

    /// A text delta, as the fast path finds it (the same effect as the full handling of a
    /// content_block_delta/text_delta event).
    void text_delta(std::string text, std::vector<stream_event>& out);

    /// message_stop seen.
    bool stopped() const noexcept { return stopped_; }
    /// At least one text delta was emitted.
    bool saw_text() const noexcept { return saw_text_; }
    /// A content block (text, thinking or tool use) has started: the model is answering.
    bool content_started() const noexcept { return started_; }

private:
    void on_block_start(const json& j, std::vector<stream_event>& out);
    void on_block_delta(const json& j, std::vector<stream_event>& out);
    void on_block_stop(const json& j, std::vector<stream_event>& out);
    void on_message_stop(std::vector<stream_event>& out);
    void read_usage(const json& u);

    bool text_only_;
    tool_call_accumulator tools_;
    std::map<std::int64_t, int> open_tool_blocks_;          // block index → ordinal
    std::map<std::int64_t, thinking_part> open_thinking_;  // block index → the block so far
    usage totals_;
    std::int64_t base_input_ = 0;
    std::string raw_stop_;
    bool stopped_ = false;
    bool saw_text_ = false;
    bool started_ = false;
};

}  // namespace ep::providers::sansio
