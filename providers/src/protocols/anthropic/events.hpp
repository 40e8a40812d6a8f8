#pragma once
// The Anthropic Messages stream event logic (Anthropic docs: Streaming Messages), shared by
// the SSE decoder and the Claude Code stream-json decoder (whose `stream_event` lines carry
// the same events).

#include "protocols/codec.hpp"
#include "protocols/common/json_util.hpp"
#include "protocols/common/tool_call_accumulator.hpp"

namespace ep::providers::sansio {

class anthropic_event_mapper
{
public:
    /// `text_only`: emit text deltas only (the Claude Code CLI runs tools itself, so its
    /// tool_use blocks are not ours; usage and finish come from its `result` line) and ignore
    /// error events (the CLI retries, then reports in `result`).
    explicit anthropic_event_mapper(bool text_only = false) : text_only_(text_only) {}

    /// One event; `name` is the SSE event name (empty → the JSON `type`). Unknown events
    /// and `ping` are skipped. Returns an error for an `error` event.
    boost::system::error_code handle(std::string_view name, const json& j, std::vector<stream_event>& out,
                                     diagnostics& diag);

    /// message_stop seen.
    bool stopped() const noexcept { return stopped_; }
    /// At least one text delta was emitted.
    bool saw_text() const noexcept { return saw_text_; }

private:
    void read_usage(const json& u);

    bool text_only_;
    tool_call_accumulator tools_;
    std::vector<std::pair<long long, int>> open_tool_blocks_;  // block index → ordinal
    usage totals_;
    std::int64_t base_input_ = 0, cache_creation_ = 0, cache_read_ = 0;
    std::string raw_stop_;
    bool stopped_ = false;
    bool saw_text_ = false;
};

}  // namespace ep::providers::sansio
