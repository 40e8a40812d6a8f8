// Messages streaming request (Anthropic API reference: Messages).
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/common/request_common.hpp"

#include <ep/providers/convert.hpp>

#include <nlohmann/json.hpp>

namespace ep::providers::sansio {

namespace {

constexpr int default_max_tokens = 4096;

// Anthropic has no JSON response mode: ask for it in the system prompt.
std::string json_instruction(const json_output& j)
{
    std::string out = "Respond with a single JSON value only: no prose, no Markdown code fences.";
    if (j.schema)
        out += " The JSON must validate against this JSON Schema:\n" + j.schema->dump();
    return out;
}

}  // namespace

http_request encode_anthropic_request(const provider_config& cfg, std::string_view base_path,
                                           const chat_request& req)
{
    json body = to_anthropic_messages(conversation_of(req));
    body["model"] = req.model;
    int max_tokens = default_max_tokens;
    if (req.max_tokens)
        max_tokens = *req.max_tokens;
    else if (auto const* m = cfg.find_model(req.model); m && m->max_output_tokens > 0)
        max_tokens = static_cast<int>(m->max_output_tokens);
    body["max_tokens"] = max_tokens;  // required by the API
    body["stream"] = true;
    if (req.json_mode)
    {
        std::string system = body.value("system", std::string());
        if (!system.empty())
            system += "\n\n";
        body["system"] = system + json_instruction(*req.json_mode);
    }
    if (req.temperature)
        body["temperature"] = *req.temperature;
    if (req.top_p)
        body["top_p"] = *req.top_p;
    if (!req.stop.empty())
        body["stop_sequences"] = req.stop;
    if (!req.tools.empty())
    {
        json tools = json::array();
        for (auto const& t : req.tools)
        {
            json tool = {{"name", t.name}, {"input_schema", t.parameters}};
            if (!t.description.empty())
                tool["description"] = t.description;
            tools.push_back(std::move(tool));
        }
        body["tools"] = std::move(tools);
        if (req.choice)
        {
            switch (req.choice->kind)
            {
            case tool_choice::mode::auto_: body["tool_choice"] = {{"type", "auto"}}; break;
            case tool_choice::mode::none: body["tool_choice"] = {{"type", "none"}}; break;
            case tool_choice::mode::required: body["tool_choice"] = {{"type", "any"}}; break;
            case tool_choice::mode::named: body["tool_choice"] = {{"type", "tool"}, {"name", req.choice->name}}; break;
            }
        }
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
