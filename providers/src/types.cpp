#include <ep/providers/config.hpp>
#include <ep/providers/types.hpp>

#include <stdexcept>

namespace ep::providers {

message message::system_text(std::string text) { return {role::system, {text_part{std::move(text)}}}; }
message message::user_text(std::string text) { return {role::user, {text_part{std::move(text)}}}; }
message message::assistant_text(std::string text) { return {role::assistant, {text_part{std::move(text)}}}; }

std::string message::text() const
{
    std::string out;
    for (auto const& p : parts)
        if (auto const* t = std::get_if<text_part>(&p))
            out += t->text;
    return out;
}

const char* to_string(finish_reason r) noexcept
{
    switch (r)
    {
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::tool_calls: return "tool_calls";
    case finish_reason::content_filter: return "content_filter";
    case finish_reason::other: return "other";
    }
    return "other";
}

const char* to_string(role r) noexcept
{
    switch (r)
    {
    case role::system: return "system";
    case role::user: return "user";
    case role::assistant: return "assistant";
    case role::tool: return "tool";
    }
    return "user";
}

const char* to_string(reasoning_effort e) noexcept
{
    switch (e)
    {
    case reasoning_effort::low: return "low";
    case reasoning_effort::medium: return "medium";
    case reasoning_effort::high: return "high";
    }
    return "medium";
}

std::optional<reasoning_effort> parse_reasoning_effort(std::string_view text) noexcept
{
    if (text == "low")
        return reasoning_effort::low;
    if (text == "medium")
        return reasoning_effort::medium;
    if (text == "high")
        return reasoning_effort::high;
    return std::nullopt;
}

bool chat_response::apply(const stream_event& ev)
{
    struct visitor
    {
        chat_response& r;
        bool operator()(const text_delta_event& e) const { r.text += e.text; return false; }
        bool operator()(const tool_call_delta_event&) const { return false; }  // complete events carry the result
        bool operator()(const tool_call_complete_event& e) const
        {
            if (static_cast<std::size_t>(e.index) >= r.tool_calls.size())
                r.tool_calls.resize(static_cast<std::size_t>(e.index) + 1);
            r.tool_calls[static_cast<std::size_t>(e.index)] = e.call;
            return false;
        }
        bool operator()(const usage_event& e) const { r.totals = e.totals; return false; }
        bool operator()(const reasoning_delta_event& e) const { r.reasoning += e.text; return false; }
        bool operator()(const thinking_block_event& e) const { r.thinking.push_back(e.block); return false; }
        bool operator()(const finish_event& e) const
        {
            r.reason = e.reason;
            r.raw_reason = e.raw_reason;
            return true;
        }
    };
    return std::visit(visitor{*this}, ev);
}

message chat_response::to_message() const
{
    message m{role::assistant, {}};
    for (auto const& t : thinking)  // Anthropic wants the thinking blocks first in the turn
        m.parts.emplace_back(t);
    if (!text.empty())
        m.parts.emplace_back(text_part{text});
    for (auto const& c : tool_calls)
        m.parts.emplace_back(c);
    return m;
}

const model_info* provider_config::find_model(const std::string& id) const
{
    for (auto const& m : models)
        if (m.id == id)
            return &m;
    return nullptr;
}

const model_info& provider_config::default_model() const
{
    if (models.empty())
        throw std::logic_error("provider '" + name + "' has no models configured");
    return models.front();
}

}  // namespace ep::providers
