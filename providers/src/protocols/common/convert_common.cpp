#include "protocols/common/convert_common.hpp"

namespace ep::providers {

conversation conversation_of(const chat_request& req) { return {req.system, req.messages}; }

}  // namespace ep::providers

namespace ep::providers::sansio {

void append_system(std::string& system, const std::string& text)
{
    if (text.empty())
        return;
    if (!system.empty())
        system += "\n\n";
    system += text;
}

std::string merged_system(const conversation& c)
{
    std::string out = c.system;
    for (auto const& m : c.messages)
        if (m.who == role::system)
            append_system(out, m.text());
    return out;
}

void push_tool_result(std::vector<message>& out, tool_result r)
{
    if (!out.empty() && out.back().who == role::tool)
        out.back().parts.emplace_back(std::move(r));
    else
        out.push_back(message{role::tool, {std::move(r)}});
}

void fill_result_names(std::vector<message>& messages)
{
    std::map<std::string, std::string> names;  // call id → function name
    for (auto& m : messages)
        for (auto& p : m.parts)
        {
            if (auto* call = std::get_if<tool_call>(&p))
                names[call->id] = call->name;
            else if (auto* res = std::get_if<tool_result>(&p); res && res->name.empty())
                if (auto it = names.find(res->tool_call_id); it != names.end())
                    res->name = it->second;
        }
}

void pending_turn::begin(std::string_view role)
{
    if (role == role_)
        return;
    flush();
    role_ = role;
}

void pending_turn::add_block(std::string_view role, json block)
{
    begin(role);
    blocks_.push_back(std::move(block));
}

void pending_turn::add_result(std::string_view role, json result)
{
    begin(role);
    results_.push_back(std::move(result));
}

void pending_turn::flush()
{
    if (results_.empty() && blocks_.empty())
        return;
    json all = std::move(results_);
    for (auto& b : blocks_)
        all.push_back(std::move(b));
    out_.push_back({{"role", role_}, {key_, std::move(all)}});
    results_ = json::array();
    blocks_ = json::array();
}

std::string text_of_content(const json& content)
{
    if (content.is_string())
        return content.get<std::string>();
    std::string out;
    if (content.is_array())
        for (auto const& block : content)
        {
            if (block.is_string())
                out += block.get<std::string>();
            else if (string_or(block, "type") == "text")
                out += string_or(block, "text");
        }
    return out;
}

}  // namespace ep::providers::sansio
