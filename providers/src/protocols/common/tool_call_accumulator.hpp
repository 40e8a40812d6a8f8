#pragma once
// Assembles streamed tool calls. Provider indexes (OpenAI `index`, Anthropic block index)
// are mapped to dense ordinals 0, 1, … in order of appearance, which is what the normalised
// events carry (chat_response::apply indexes its vector by them).

#include <ep/providers/types.hpp>

#include <string>
#include <vector>

namespace ep::providers::sansio {

class tool_call_accumulator
{
public:
    /// Starts a call for `wire_index`; returns its ordinal.
    int start(long long wire_index, std::string id, std::string name);
    /// The ordinal of the open call with this wire index, or -1.
    int find(long long wire_index) const noexcept;
    void append(int ordinal, std::string_view fragment) { calls_[static_cast<std::size_t>(ordinal)].call.arguments += fragment; }
    tool_call& call(int ordinal) { return calls_[static_cast<std::size_t>(ordinal)].call; }
    /// Emits tool_call_complete_event for `ordinal` unless already done ("" arguments → "{}").
    void complete(int ordinal, std::vector<stream_event>& out);
    /// Completes every call still open, in order.
    void complete_all(std::vector<stream_event>& out);
    bool empty() const noexcept { return calls_.empty(); }
    std::size_t size() const noexcept { return calls_.size(); }

private:
    struct entry
    {
        long long wire_index;
        tool_call call;
        bool completed = false;
    };
    std::vector<entry> calls_;
};

}  // namespace ep::providers::sansio
