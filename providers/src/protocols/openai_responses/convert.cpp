// Conversation <-> Responses API `instructions` + `input` items.
#include "protocols/common/convert_common.hpp"

namespace ep::providers {

using sansio::json;

namespace {

json message_item(const char* role, const std::string& text)
{
    return {{"type", "message"}, {"role", role}, {"content", text}};
}

void append_part(json& items, role who, const content_part& p)
{
    if (auto const* t = std::get_if<text_part>(&p))
    {
        if (!t->text.empty())
            items.push_back(message_item(who == role::assistant ? "assistant" : "user", t->text));
    }
    else if (auto const* call = std::get_if<tool_call>(&p))
        items.push_back({{"type", "function_call"},
                         {"call_id", call->id},
                         {"name", call->name},
                         {"arguments", call->arguments.empty() ? "{}" : call->arguments}});
    else if (auto const* r = std::get_if<tool_result>(&p))
        items.push_back({{"type", "function_call_output"}, {"call_id", r->tool_call_id}, {"output", r->content}});
    else if (auto const* th = std::get_if<thinking_part>(&p); th && th->protocol == "openai_responses")
    {
        // Another protocol's reasoning means nothing here; this one's goes back as it came.
        json item = {{"type", "reasoning"}, {"id", th->id}, {"summary", json::array()}};
        if (!th->text.empty())
            item["summary"].push_back({{"type", "summary_text"}, {"text", th->text}});
        if (!th->signature.empty())
            item["encrypted_content"] = th->signature;
        items.push_back(std::move(item));
    }
}

// The text of an input message's content: a string, or input_text/output_text parts.
std::string content_text(const json& content)
{
    if (content.is_string())
        return content.get<std::string>();
    std::string out;
    if (content.is_array())
        for (auto const& part : content)
            out += sansio::string_or(part, "text");
    return out;
}

}  // namespace

json to_responses_input(const conversation& c)
{
    json out = json::object();
    if (auto system = sansio::merged_system(c); !system.empty())
        out["instructions"] = system;
    json items = json::array();
    for (auto const& m : c.messages)
        if (m.who != role::system)
            for (auto const& p : m.parts)
                append_part(items, m.who, p);
    out["input"] = std::move(items);
    return out;
}

boost::system::result<conversation> from_responses_input(const json& body)
{
    conversation c;
    c.system = sansio::string_or(body, "instructions");
    auto const* input = sansio::member(body, "input");
    if (input && input->is_string())
    {
        c.messages.push_back(message::user_text(input->get<std::string>()));
        return c;
    }
    if (!input || !input->is_array())
        return sansio::bad_shape();
    auto add = [&](role who, content_part part) {
        if (c.messages.empty() || c.messages.back().who != who)
            c.messages.push_back(message{who, {}});
        c.messages.back().parts.push_back(std::move(part));
    };
    for (auto const& item : *input)
    {
        auto type = sansio::string_or(item, "type", "message");
        if (type == "message")
        {
            auto role_name = sansio::string_or(item, "role");
            auto const* content = sansio::member(item, "content");
            std::string text = content ? content_text(*content) : std::string();
            if (role_name == "system" || role_name == "developer")
                sansio::append_system(c.system, text);
            else if (role_name == "user" || role_name == "assistant")
                add(role_name == "user" ? role::user : role::assistant, text_part{std::move(text)});
            else
                return sansio::bad_shape();
        }
        else if (type == "function_call")
            add(role::assistant, tool_call{sansio::string_or(item, "call_id"), sansio::string_or(item, "name"),
                                           sansio::string_or(item, "arguments")});
        else if (type == "function_call_output")
        {
            auto const* output = sansio::member(item, "output");
            sansio::push_tool_result(c.messages, tool_result{sansio::string_or(item, "call_id"), "",
                                                             output ? sansio::text_of(*output) : std::string()});
        }
        else if (type == "reasoning")
        {
            thinking_part th{.protocol = "openai_responses", .id = sansio::string_or(item, "id")};
            th.signature = sansio::string_or(item, "encrypted_content");
            if (auto const* summary = sansio::member(item, "summary"); summary && summary->is_array())
                for (auto const& s : *summary)
                    th.text += sansio::string_or(s, "text");
            add(role::assistant, std::move(th));
        }
        else
            return sansio::bad_shape();
    }
    sansio::fill_result_names(c.messages);
    return c;
}

}  // namespace ep::providers
