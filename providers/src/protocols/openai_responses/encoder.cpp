// Responses API streaming request (OpenAI API reference: Create a model response).
#include "protocols/common/request_common.hpp"
#include "protocols/common/request_features.hpp"
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <ep/providers/convert.hpp>

#include <nlohmann/json.hpp>

namespace ep::providers::sansio {

namespace {

json tools_json(const std::vector<tool_spec>& tools)
{
    json out = json::array();
    for (auto const& t : tools)
    {
        // Flat function tools: no nested `function` object, unlike Chat Completions.
        json tool = {{"type", "function"}, {"name", t.name}, {"parameters", t.parameters}};
        if (!t.description.empty())
            tool["description"] = t.description;
        out.push_back(std::move(tool));
    }
    return out;
}

json tool_choice_json(const tool_choice& c)
{
    switch (c.kind)
    {
    case tool_choice::mode::none: return "none";
    case tool_choice::mode::required: return "required";
    case tool_choice::mode::named: return {{"type", "function"}, {"name", c.name}};
    case tool_choice::mode::auto_: break;
    }
    return "auto";
}

// text.format: the schema natively (strict when it allows), or the instruction fallback.
void add_json_output(json& body, const provider_config& cfg, const chat_request& req)
{
    const json_output& j = *req.json_mode;
    if (!native_json(cfg, req.model))
    {
        std::string instructions = body.value("instructions", std::string());
        body["instructions"] = (instructions.empty() ? "" : instructions + "\n\n") + json_instruction(j);
        return;
    }
    if (!j.schema)
    {
        body["text"] = {{"format", {{"type", "json_object"}}}};
        return;
    }
    body["text"] = {{"format",
                     {{"type", "json_schema"},
                      {"name", j.schema_name.empty() ? "output" : j.schema_name},
                      {"schema", *j.schema},
                      {"strict", schema_allows_strict(*j.schema)}}}};
}

}  // namespace

http_request encode_responses_request(const provider_config& cfg, std::string_view base_path,
                                      const chat_request& req)
{
    json body = to_responses_input(conversation_of(req));
    body["model"] = req.model;
    body["stream"] = true;
    body["store"] = false;  // EP keeps the conversation; nothing needs to live server-side
    if (req.max_tokens)
        body["max_output_tokens"] = *req.max_tokens;
    if (req.reasoning)
    {
        body["reasoning"] = {{"effort", to_string(*req.reasoning)}};
        // Reasoning models reject sampling parameters; the encrypted reasoning comes back so
        // that a tool conversation can hand it to the next turn (store is off).
        body["include"] = json::array({"reasoning.encrypted_content"});
    }
    else
    {
        if (req.temperature)
            body["temperature"] = *req.temperature;
        if (req.top_p)
            body["top_p"] = *req.top_p;
    }
    // `stop` has no equivalent in the Responses API; it is not sent.
    if (!req.tools.empty())
    {
        body["tools"] = tools_json(req.tools);
        if (req.choice)
            body["tool_choice"] = tool_choice_json(*req.choice);
    }
    if (req.json_mode)
        add_json_output(body, cfg, req);

    return finish_openai_request(body, cfg, base_path, "/responses", req);
}

}  // namespace ep::providers::sansio
