// Chat Completions streaming request (OpenAI API reference: Create chat completion).
#include "protocols/common/request_common.hpp"
#include "protocols/common/request_features.hpp"
#include "protocols/openai/openai.hpp"

#include <ep/providers/convert.hpp>

#include <nlohmann/json.hpp>

namespace ep::providers::sansio {

namespace {

json tool_choice_json(const tool_choice& c)
{
    switch (c.kind)
    {
    case tool_choice::mode::none: return "none";
    case tool_choice::mode::required: return "required";
    case tool_choice::mode::named: return {{"type", "function"}, {"function", {{"name", c.name}}}};
    case tool_choice::mode::auto_: break;
    }
    return "auto";
}

json tools_json(const std::vector<tool_spec>& tools)
{
    json out = json::array();
    for (auto const& t : tools)
    {
        json fn = {{"name", t.name}, {"parameters", t.parameters}};
        if (!t.description.empty())
            fn["description"] = t.description;
        out.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    return out;
}

// response_format json_schema (strict only where the schema allows it: strict mode rejects
// open objects and optional properties), json_object without a schema, or, for models
// without native support, JSON mode plus the schema in the system message.
void add_json_output(json& body, const provider_config& cfg, const chat_request& req)
{
    const json_output& j = *req.json_mode;
    if (j.schema && native_json(cfg, req.model))
    {
        body["response_format"] = {{"type", "json_schema"},
                                   {"json_schema",
                                    {{"name", j.schema_name.empty() ? "output" : j.schema_name},
                                     {"schema", *j.schema},
                                     {"strict", schema_allows_strict(*j.schema)}}}};
        return;
    }
    body["response_format"] = {{"type", "json_object"}};
    if (!j.schema)
        return;
    auto& messages = body["messages"];
    if (!messages.empty() && messages.front().value("role", "") == "system")
        messages.front()["content"] = messages.front()["content"].get<std::string>() + "\n\n" + json_instruction(j);
    else
        messages.insert(messages.begin(), json{{"role", "system"}, {"content", json_instruction(j)}});
}

}  // namespace

void add_openai_auth(http_request& spec, const provider_config& cfg)
{
    if (cfg.azure_api_version)
    {
        spec.target += "?api-version=" + *cfg.azure_api_version;
        if (!cfg.api_key.empty())
            spec.headers.emplace_back("api-key", cfg.api_key);
    }
    else if (!cfg.api_key.empty())
        spec.headers.emplace_back("Authorization", "Bearer " + cfg.api_key);
}

http_request finish_openai_request(const json& body, const provider_config& cfg, std::string_view base_path,
                                   std::string_view endpoint, const chat_request& req)
{
    http_request spec;
    spec.target = join_path(base_path, endpoint);
    add_openai_auth(spec, cfg);
    add_common_headers(spec, cfg, req);
    spec.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return spec;
}

http_request encode_openai_request(const provider_config& cfg, std::string_view base_path, const chat_request& req)
{
    json body = {{"model", req.model},
                 {"messages", to_openai_messages(conversation_of(req))},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (req.max_tokens)
        body[cfg.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = *req.max_tokens;
    if (req.reasoning)
        body["reasoning_effort"] = to_string(*req.reasoning);  // reasoning models reject sampling knobs
    else
    {
        if (req.temperature)
            body["temperature"] = *req.temperature;
        if (req.top_p)
            body["top_p"] = *req.top_p;
    }
    if (!req.stop.empty())
        body["stop"] = req.stop;
    if (!req.tools.empty())
    {
        body["tools"] = tools_json(req.tools);
        if (req.choice)
            body["tool_choice"] = tool_choice_json(*req.choice);
    }
    if (req.json_mode)
        add_json_output(body, cfg, req);

    return finish_openai_request(body, cfg, base_path, "/chat/completions", req);
}

}  // namespace ep::providers::sansio
