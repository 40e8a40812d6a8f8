// Chat Completions streaming request (OpenAI API reference: Create chat completion).
#include "protocols/common/request_common.hpp"
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

}  // namespace

http_request encode_openai_request(const provider_config& cfg, std::string_view base_path,
                                        const chat_request& req)
{
    json body = {{"model", req.model},
                 {"messages", to_openai_messages(conversation_of(req))},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (req.max_tokens)
        body[cfg.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = *req.max_tokens;
    if (req.temperature)
        body["temperature"] = *req.temperature;
    if (req.top_p)
        body["top_p"] = *req.top_p;
    if (!req.stop.empty())
        body["stop"] = req.stop;
    if (!req.tools.empty())
    {
        json tools = json::array();
        for (auto const& t : req.tools)
        {
            json fn = {{"name", t.name}, {"parameters", t.parameters}};
            if (!t.description.empty())
                fn["description"] = t.description;
            tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
        }
        body["tools"] = std::move(tools);
        if (req.choice)
            body["tool_choice"] = tool_choice_json(*req.choice);
    }
    if (req.json_mode)
    {
        if (req.json_mode->schema)
            body["response_format"] = {{"type", "json_schema"},
                                       {"json_schema",
                                        {{"name", req.json_mode->schema_name.empty() ? "output"
                                                                                     : req.json_mode->schema_name},
                                         {"schema", *req.json_mode->schema}}}};
        else
            body["response_format"] = {{"type", "json_object"}};
    }

    http_request spec;
    spec.target = join_path(base_path, "/chat/completions");
    if (cfg.azure_api_version)
    {
        spec.target += "?api-version=" + *cfg.azure_api_version;
        if (!cfg.api_key.empty())
            spec.headers.emplace_back("api-key", cfg.api_key);
    }
    else if (!cfg.api_key.empty())
        spec.headers.emplace_back("Authorization", "Bearer " + cfg.api_key);
    add_common_headers(spec, cfg, req);
    spec.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return spec;
}

}  // namespace ep::providers::sansio
