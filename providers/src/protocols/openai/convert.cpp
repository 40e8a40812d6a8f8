// Conversation <-> OpenAI Chat Completions `messages`.
#include "protocols/common/convert_common.hpp"

namespace ep::providers {

using sansio::json;

namespace {

json content_of(const std::vector<std::string>& texts)
{
    if (texts.empty())
        return nullptr;
    if (texts.size() == 1)
        return texts.front();
    json parts = json::array();
    for (auto const& t : texts)
        parts.push_back({{"type", "text"}, {"text", t}});
    return parts;
}

json tool_message(const tool_result& r)
{
    return {{"role", "tool"}, {"tool_call_id", r.tool_call_id}, {"content", r.content}};
}

}  // namespace

json to_openai_messages(const conversation& c)
{
    json out = json::array();
    if (auto system = sansio::merged_system(c); !system.empty())
        out.push_back({{"role", "system"}, {"content", system}});

    for (auto const& m : c.messages)
    {
        if (m.who == role::system)
            continue;
        std::vector<std::string> texts;
        json calls = json::array();
        for (auto const& p : m.parts)
        {
            if (auto const* t = std::get_if<text_part>(&p))
                texts.push_back(t->text);
            else if (auto const* call = std::get_if<tool_call>(&p))
                calls.push_back({{"id", call->id},
                                 {"type", "function"},
                                 {"function",
                                  {{"name", call->name}, {"arguments", call->arguments.empty() ? "{}" : call->arguments}}}});
            else if (auto const* r = std::get_if<tool_result>(&p))
                out.push_back(tool_message(*r));  // results precede any text of the same turn
        }
        if (m.who == role::assistant)
        {
            if (texts.empty() && calls.empty())
                continue;
            json msg = {{"role", "assistant"}, {"content", content_of(texts)}};
            if (!calls.empty())
                msg["tool_calls"] = std::move(calls);
            out.push_back(std::move(msg));
        }
        else if (!texts.empty())
            out.push_back({{"role", "user"}, {"content", content_of(texts)}});
    }
    return out;
}

boost::system::result<conversation> from_openai_messages(const json& messages)
{
    if (!messages.is_array())
        return sansio::bad_shape();
    conversation c;
    for (auto const& m : messages)
    {
        auto const* role_name = sansio::string_member(m, "role");
        if (!role_name)
            return sansio::bad_shape();
        auto const* content = sansio::member(m, "content");
        std::string text = content ? sansio::text_of_content(*content) : std::string();

        if (*role_name == "system" || *role_name == "developer")
            sansio::append_system(c.system, text);
        else if (*role_name == "user")
            c.messages.push_back(message::user_text(std::move(text)));
        else if (*role_name == "assistant")
        {
            message msg{role::assistant, {}};
            if (!text.empty())
                msg.parts.emplace_back(text_part{std::move(text)});
            if (auto const* calls = sansio::member(m, "tool_calls"); calls && calls->is_array())
                for (auto const& call : *calls)
                {
                    auto const* fn = sansio::member(call, "function");
                    tool_call tc{sansio::string_or(call, "id"), fn ? sansio::string_or(*fn, "name") : "", ""};
                    if (auto const* args = fn ? sansio::member(*fn, "arguments") : nullptr)
                        tc.arguments = sansio::text_of(*args);
                    msg.parts.emplace_back(std::move(tc));
                }
            c.messages.push_back(std::move(msg));
        }
        else if (*role_name == "tool")
            sansio::push_tool_result(c.messages,
                                     tool_result{sansio::string_or(m, "tool_call_id"), "", std::move(text), false});
        else
            return sansio::bad_shape();
    }
    sansio::fill_result_names(c.messages);
    return c;
}

}  // namespace ep::providers
