// Conversation <-> Gemini `systemInstruction` + `contents`.
#include "protocols/common/convert_common.hpp"

#include <deque>

namespace ep::providers {

using sansio::json;

json to_gemini_messages(const conversation& c)
{
    json out = json::object();
    if (auto system = sansio::merged_system(c); !system.empty())
        out["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};

    std::map<std::string, std::string> call_names;  // id → name, for results without a name
    json contents = json::array();
    sansio::pending_turn cur("parts", contents);
    for (auto const& m : c.messages)
    {
        if (m.who == role::system)
            continue;
        const std::string_view role_name = m.who == role::assistant ? "model" : "user";
        for (auto const& p : m.parts)
        {
            if (auto const* t = std::get_if<text_part>(&p))
            {
                if (!t->text.empty())
                    cur.add_block(role_name, {{"text", t->text}});
            }
            else if (auto const* call = std::get_if<tool_call>(&p))
            {
                json fc = {{"name", call->name}, {"args", sansio::arguments_object(call->arguments)}};
                if (!call->id.empty())
                    fc["id"] = call->id;
                call_names[call->id] = call->name;
                json part = {{"functionCall", std::move(fc)}};
                if (!call->signature.empty())
                    part["thoughtSignature"] = call->signature;  // back on the part it came with
                cur.add_block(role_name, std::move(part));
            }
            else if (auto const* r = std::get_if<tool_result>(&p))
            {
                std::string name = r->name;
                if (name.empty())
                    if (auto it = call_names.find(r->tool_call_id); it != call_names.end())
                        name = it->second;
                json fr = {{"name", name}, {"response", {{r->is_error ? "error" : "output", r->content}}}};
                if (!r->tool_call_id.empty())
                    fr["id"] = r->tool_call_id;
                cur.add_result(role_name, {{"functionResponse", std::move(fr)}});
            }
        }
    }
    cur.flush();
    out["contents"] = std::move(contents);
    return out;
}

boost::system::result<conversation> from_gemini_messages(const json& body)
{
    auto const* contents = sansio::member(body, "contents");
    if (!contents || !contents->is_array())
        return sansio::bad_shape();
    conversation c;
    if (auto const* si = sansio::member(body, "systemInstruction"))
        if (auto const* parts = sansio::member(*si, "parts"); parts && parts->is_array())
            for (auto const& p : *parts)
                c.system += sansio::string_or(p, "text");

    int made_up = 0;
    std::map<std::string, std::deque<std::string>> unanswered;  // name → ids of calls without a result yet
    for (auto const& content : *contents)
    {
        auto role_name = sansio::string_or(content, "role", "user");
        auto const* parts = sansio::member(content, "parts");
        if (!parts || !parts->is_array())
            return sansio::bad_shape();
        message msg{role_name == "model" ? role::assistant : role::user, {}};
        for (auto const& part : *parts)
        {
            auto const* thought = sansio::member(part, "thought");
            if (thought && thought->is_boolean() && thought->get<bool>())
                continue;
            if (auto const* text = sansio::string_member(part, "text"))
                msg.parts.emplace_back(text_part{*text});
            else if (auto const* fc = sansio::member(part, "functionCall"))
            {
                tool_call call{sansio::string_or(*fc, "id"), sansio::string_or(*fc, "name"), "{}"};
                if (call.id.empty())
                    call.id = "gemini_call_" + std::to_string(made_up++);
                if (auto const* args = sansio::member(*fc, "args"))
                    call.arguments = args->dump();
                call.signature = sansio::string_or(part, "thoughtSignature");
                unanswered[call.name].push_back(call.id);
                msg.parts.emplace_back(std::move(call));
            }
            else if (auto const* fr = sansio::member(part, "functionResponse"))
            {
                tool_result r{sansio::string_or(*fr, "id"), sansio::string_or(*fr, "name"), "", false};
                auto& queue = unanswered[r.name];
                if (r.tool_call_id.empty() && !queue.empty())
                    r.tool_call_id = queue.front();
                if (auto it = std::find(queue.begin(), queue.end(), r.tool_call_id); it != queue.end())
                    queue.erase(it);
                if (r.tool_call_id.empty())
                    r.tool_call_id = "gemini_call_" + std::to_string(made_up++);
                if (auto const* resp = sansio::member(*fr, "response"))
                {
                    if (auto const* output = sansio::member(*resp, "output"))
                        r.content = sansio::text_of(*output);
                    else if (auto const* error = sansio::member(*resp, "error"))
                    {
                        r.content = sansio::text_of(*error);
                        r.is_error = true;
                    }
                    else
                        r.content = resp->dump();
                }
                sansio::push_tool_result(c.messages, std::move(r));
            }
        }
        if (!msg.parts.empty())
            c.messages.push_back(std::move(msg));
    }
    return c;
}

}  // namespace ep::providers
