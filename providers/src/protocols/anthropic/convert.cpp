// Conversation <-> Anthropic Messages `system` + `messages` (with prompt-cache breakpoints
// and thinking blocks).
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/common/convert_common.hpp"

namespace ep::providers {

using sansio::json;

namespace {

// Anthropic accepts at most four cache breakpoints per request.
constexpr int max_breakpoints = 4;

const json ephemeral = {{"type", "ephemeral"}};

bool worth_caching(const cache_options* cache, std::size_t chars)
{
    return cache && cache->enabled && chars >= cache->min_chars;
}

// Keeps the last `max_breakpoints` cache_control markers: a later breakpoint caches a longer
// prefix, so the earliest ones are the ones to give up.
void limit_breakpoints(json& out)
{
    std::vector<json*> marked;
    if (auto it = out.find("system"); it != out.end() && it->is_array())
        for (auto& block : *it)
            if (block.contains("cache_control"))
                marked.push_back(&block);
    for (auto& m : out["messages"])
        for (auto& block : m["content"])
            if (block.contains("cache_control"))
                marked.push_back(&block);
    for (std::size_t i = 0; i + max_breakpoints < marked.size(); ++i)
        marked[i]->erase("cache_control");
}

json thinking_block(const thinking_part& t)
{
    if (!t.redacted.empty())
        return {{"type", "redacted_thinking"}, {"data", t.redacted}};
    return {{"type", "thinking"}, {"thinking", t.text}, {"signature", t.signature}};
}

}  // namespace

json to_anthropic_messages(const conversation& c)
{
    return sansio::anthropic_messages(c, nullptr);
}

json sansio::anthropic_messages(const conversation& c, const cache_options* cache)
{
    json out = json::object();
    if (auto system = sansio::merged_system(c); !system.empty())
    {
        if (worth_caching(cache, system.size()))
            out["system"] = json::array({{{"type", "text"}, {"text", system}, {"cache_control", ephemeral}}});
        else
            out["system"] = system;
    }

    json messages = json::array();
    sansio::pending_turn cur("content", messages);
    for (auto const& m : c.messages)
    {
        if (m.who == role::system)
            continue;
        const std::string_view role_name = m.who == role::assistant ? "assistant" : "user";
        for (auto const& p : m.parts)
        {
            if (auto const* t = std::get_if<text_part>(&p))
            {
                if (t->text.empty())  // the API rejects empty text blocks
                    continue;
                json block = {{"type", "text"}, {"text", t->text}};
                if (t->cache && worth_caching(cache, t->text.size()))
                    block["cache_control"] = ephemeral;
                cur.add_block(role_name, std::move(block));
            }
            else if (auto const* th = std::get_if<thinking_part>(&p))
            {
                if (th->protocol == "anthropic")  // signatures are valid only where they were made
                    cur.add_block(role_name, thinking_block(*th));
            }
            else if (auto const* call = std::get_if<tool_call>(&p))
                cur.add_block(role_name, {{"type", "tool_use"},
                                          {"id", call->id},
                                          {"name", call->name},
                                          {"input", sansio::arguments_object(call->arguments)}});
            else if (auto const* r = std::get_if<tool_result>(&p))
            {
                json block = {{"type", "tool_result"}, {"tool_use_id", r->tool_call_id}, {"content", r->content}};
                if (r->is_error)
                    block["is_error"] = true;
                cur.add_result(role_name, std::move(block));
            }
        }
    }
    cur.flush();
    out["messages"] = std::move(messages);
    if (cache)
        limit_breakpoints(out);
    return out;
}

boost::system::result<conversation> from_anthropic_messages(const json& body)
{
    auto const* messages = sansio::member(body, "messages");
    if (!messages || !messages->is_array())
        return sansio::bad_shape();
    conversation c;
    if (auto const* system = sansio::member(body, "system"))
        c.system = sansio::text_of_content(*system);

    for (auto const& m : *messages)
    {
        auto role_name = sansio::string_or(m, "role");
        if (role_name != "user" && role_name != "assistant")
            return sansio::bad_shape();
        auto const* content = sansio::member(m, "content");
        if (!content)
            return sansio::bad_shape();

        message msg{role_name == "assistant" ? role::assistant : role::user, {}};
        if (content->is_string())
            msg.parts.emplace_back(text_part{content->get<std::string>()});
        else if (content->is_array())
            for (auto const& block : *content)
            {
                auto type = sansio::string_or(block, "type");
                if (type == "text")
                    msg.parts.emplace_back(
                        text_part{sansio::string_or(block, "text"), sansio::member(block, "cache_control") != nullptr});
                else if (type == "thinking")
                    msg.parts.emplace_back(thinking_part{.protocol = "anthropic",
                                                         .text = sansio::string_or(block, "thinking"),
                                                         .signature = sansio::string_or(block, "signature")});
                else if (type == "redacted_thinking")
                    msg.parts.emplace_back(
                        thinking_part{.protocol = "anthropic", .redacted = sansio::string_or(block, "data")});
                else if (type == "tool_use")
                {
                    std::string args;
                    if (auto const* input = sansio::member(block, "input"))
                        args = input->dump();
                    msg.parts.emplace_back(
                        tool_call{sansio::string_or(block, "id"), sansio::string_or(block, "name"), std::move(args)});
                }
                else if (type == "tool_result")
                {
                    auto const* rc = sansio::member(block, "content");
                    auto const* err = sansio::member(block, "is_error");
                    sansio::push_tool_result(c.messages,
                                             tool_result{sansio::string_or(block, "tool_use_id"), "",
                                                         rc ? sansio::text_of_content(*rc) : std::string(),
                                                         err && err->is_boolean() && err->get<bool>()});
                }
                // images, documents, server tools, …: not represented (see convert.hpp).
            }
        else
            return sansio::bad_shape();
        if (!msg.parts.empty())
            c.messages.push_back(std::move(msg));
    }
    sansio::fill_result_names(c.messages);
    return c;
}

}  // namespace ep::providers
