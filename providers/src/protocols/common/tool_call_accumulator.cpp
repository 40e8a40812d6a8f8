#include "protocols/common/tool_call_accumulator.hpp"

namespace ep::providers::sansio {

int tool_call_accumulator::start(long long wire_index, std::string id, std::string name)
{
    calls_.push_back(entry{wire_index, tool_call{std::move(id), std::move(name), {}}});
    return static_cast<int>(calls_.size() - 1);
}

int tool_call_accumulator::find(long long wire_index) const noexcept
{
    // Search from the back: a reused wire index refers to the latest call with it.
    for (std::size_t i = calls_.size(); i-- > 0;)
        if (calls_[i].wire_index == wire_index && !calls_[i].completed)
            return static_cast<int>(i);
    return -1;
}

void tool_call_accumulator::complete(int ordinal, std::vector<stream_event>& out)
{
    auto& e = calls_[static_cast<std::size_t>(ordinal)];
    if (e.completed)
        return;
    e.completed = true;
    if (e.call.arguments.empty())
        e.call.arguments = "{}";
    out.emplace_back(tool_call_complete_event{ordinal, e.call});
}

void tool_call_accumulator::complete_all(std::vector<stream_event>& out)
{
    for (std::size_t i = 0; i < calls_.size(); ++i)
        complete(static_cast<int>(i), out);
}

}  // namespace ep::providers::sansio
