// Messages streaming request (Anthropic API reference: Messages).
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/common/request_common.hpp"
#include "protocols/common/request_features.hpp"

#include <ep/providers/convert.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace ep::providers::sansio {

namespace {

constexpr int default_max_tokens = 4096;
// Anthropic's smallest thinking budget.
constexpr int min_thinking_budget = 1024;

bool tool_forced(const chat_request& req)
{
    return req.choice && (req.choice->kind == tool_choice::mode::required || req.choice->kind == tool_choice::mode::named);
}

// The system prompt is a string, or text blocks when it carries a cache breakpoint; the
// instruction goes after it (outside the cached prefix).
void append_to_system(json& body, const std::string& text)
{
    auto it = body.find("system");
    if (it == body.end())
        body["system"] = text;
    else if (it->is_string())
        *it = it->get<std::string>() + "\n\n" + text;
    else
        it->push_back({{"type", "text"}, {"text", text}});
}

json tools_json(const chat_request& req)
{
    json tools = json::array();
    for (auto const& t : req.tools)
    {
        json tool = {{"name", t.name}, {"input_schema", t.parameters}};
        if (!t.description.empty())
            tool["description"] = t.description;
        tools.push_back(std::move(tool));
    }
    return tools;
}

json tool_choice_json(const tool_choice& c)
{
    switch (c.kind)
    {
    case tool_choice::mode::none: return {{"type", "none"}};
    case tool_choice::mode::required: return {{"type", "any"}};
    case tool_choice::mode::named: return {{"type", "tool"}, {"name", c.name}};
    case tool_choice::mode::auto_: break;
    }
    return {{"type", "auto"}};
}

// Adaptive thinking with an effort (Claude 4.6 and newer; the only form Opus 4.7 and later
// accept), or a token budget for the models that predate it (capability thinking_budget).
// The budget counts toward max_tokens, so max_tokens grows by it (up to the model's limit).
// Returns whether thinking is on. Forced tool use and thinking exclude each other.
bool add_thinking(json& body, const provider_config& cfg, const chat_request& req, int& max_tokens)
{
    if (!req.reasoning || tool_forced(req))
        return false;
    if (!has_capability(cfg, req.model, "thinking_budget"))
    {
        body["thinking"] = {{"type", "adaptive"}};
        body["output_config"]["effort"] = to_string(*req.reasoning);
        return true;
    }
    int limit = std::numeric_limits<int>::max();
    if (auto const* m = cfg.find_model(req.model); m && m->max_output_tokens > 0)
        limit = static_cast<int>(std::min<std::int64_t>(m->max_output_tokens, limit));
    const int wanted = thinking_budget_tokens(*req.reasoning);
    const int total = static_cast<int>(std::min<std::int64_t>(limit, std::int64_t(max_tokens) + wanted));
    // At the model's limit, the answer keeps at least half of it (or all it asked for).
    const int budget = std::min(wanted, total - std::min(max_tokens, total / 2));
    if (budget < min_thinking_budget)
        return false;
    max_tokens = total;
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
    return true;
}

void add_json_output(json& body, const provider_config& cfg, const chat_request& req)
{
    const json_output& j = *req.json_mode;
    if (j.schema && native_json(cfg, req.model))
        body["output_config"]["format"] = {{"type", "json_schema"}, {"schema", closed_schema(*j.schema)}};
    else
        append_to_system(body, json_instruction(j));  // no schema, or no native support
}

}  // namespace

http_request encode_anthropic_request(const provider_config& cfg, std::string_view base_path,
                                      const chat_request& req)
{
    json body = anthropic_messages(conversation_of(req), &req.cache);
    body["model"] = req.model;
    int max_tokens = default_max_tokens;
    if (req.max_tokens)
        max_tokens = *req.max_tokens;
    else if (auto const* m = cfg.find_model(req.model); m && m->max_output_tokens > 0)
        max_tokens = static_cast<int>(m->max_output_tokens);
    const bool thinking = add_thinking(body, cfg, req, max_tokens);
    body["max_tokens"] = max_tokens;  // required by the API
    body["stream"] = true;
    if (req.json_mode)
        add_json_output(body, cfg, req);
    if (!thinking)  // thinking requires the default temperature and top_p
    {
        if (req.temperature)
            body["temperature"] = *req.temperature;
        if (req.top_p)
            body["top_p"] = *req.top_p;
    }
    if (!req.stop.empty())
        body["stop_sequences"] = req.stop;
    if (!req.tools.empty())
    {
        body["tools"] = tools_json(req);
        if (req.choice)
            body["tool_choice"] = tool_choice_json(*req.choice);
    }

    http_request spec;
    // The base URL is the API root (https://api.anthropic.com); tolerate one that ends in /v1.
    std::string_view trimmed = base_path;
    while (!trimmed.empty() && trimmed.back() == '/')
        trimmed.remove_suffix(1);
    spec.target = trimmed.ends_with("/v1") ? join_path(trimmed, "/messages") : join_path(trimmed, "/v1/messages");
    if (!cfg.api_key.empty())
        spec.headers.emplace_back("x-api-key", cfg.api_key);
    spec.headers.emplace_back("anthropic-version", "2023-06-01");
    add_common_headers(spec, cfg, req);
    spec.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return spec;
}

}  // namespace ep::providers::sansio
