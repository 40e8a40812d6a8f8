// streamGenerateContent?alt=sse request (Gemini API reference: models.streamGenerateContent).
#include "protocols/common/request_common.hpp"
#include "protocols/common/request_features.hpp"
#include "protocols/gemini/gemini.hpp"

#include <ep/providers/convert.hpp>

#include <nlohmann/json.hpp>

namespace ep::providers::sansio {

namespace {

// thinkingLevel for Gemini 3 and newer; thinkingBudget for 2.5 (capability thinking_budget).
// Thought summaries are asked for so that the thinking streams (as reasoning, never answer).
json thinking_config(const provider_config& cfg, const chat_request& req)
{
    json tc = {{"includeThoughts", true}};
    if (has_capability(cfg, req.model, "thinking_budget"))
        tc["thinkingBudget"] = thinking_budget_tokens(*req.reasoning);
    else
        tc["thinkingLevel"] = to_string(*req.reasoning);
    return tc;
}

void add_json_output(json& body, json& gen, const provider_config& cfg, const chat_request& req)
{
    const json_output& j = *req.json_mode;
    gen["responseMimeType"] = "application/json";
    if (j.schema && native_json(cfg, req.model))
        gen["responseJsonSchema"] = *j.schema;
    else if (j.schema)
    {
        // No native schema support: JSON mode plus the schema in the system instruction.
        auto& parts = body["systemInstruction"]["parts"];
        if (!parts.is_array())
            parts = json::array();
        parts.push_back({{"text", json_instruction(j)}});
    }
}

}  // namespace

http_request encode_gemini_request(const provider_config& cfg, std::string_view base_path,
                                        const chat_request& req)
{
    json body = to_gemini_messages(conversation_of(req));

    json gen = json::object();
    if (req.max_tokens)
        gen["maxOutputTokens"] = *req.max_tokens;
    if (req.reasoning)
        gen["thinkingConfig"] = thinking_config(cfg, req);
    else
    {
        if (req.temperature)
            gen["temperature"] = *req.temperature;
        if (req.top_p)
            gen["topP"] = *req.top_p;
    }
    if (!req.stop.empty())
        gen["stopSequences"] = req.stop;
    if (req.json_mode)
        add_json_output(body, gen, cfg, req);
    if (!gen.empty())
        body["generationConfig"] = std::move(gen);

    if (!req.tools.empty())
    {
        json decls = json::array();
        for (auto const& t : req.tools)
        {
            // parametersJsonSchema takes plain JSON Schema; `parameters` wants the OpenAPI subset.
            json d = {{"name", t.name}, {"parametersJsonSchema", t.parameters}};
            if (!t.description.empty())
                d["description"] = t.description;
            decls.push_back(std::move(d));
        }
        body["tools"] = json::array({{{"functionDeclarations", std::move(decls)}}});
        if (req.choice)
        {
            json fcc;
            switch (req.choice->kind)
            {
            case tool_choice::mode::auto_: fcc = {{"mode", "AUTO"}}; break;
            case tool_choice::mode::none: fcc = {{"mode", "NONE"}}; break;
            case tool_choice::mode::required: fcc = {{"mode", "ANY"}}; break;
            case tool_choice::mode::named:
                fcc = {{"mode", "ANY"}, {"allowedFunctionNames", json::array({req.choice->name})}};
                break;
            }
            body["toolConfig"] = {{"functionCallingConfig", std::move(fcc)}};
        }
    }

    http_request spec;
    // The path segment is "models/<id>"; accept a model id that already has the prefix.
    std::string model = req.model.starts_with("models/") ? req.model : "models/" + req.model;
    spec.target = join_path(base_path, "/" + model + ":streamGenerateContent?alt=sse");
    if (!cfg.api_key.empty())
        spec.headers.emplace_back("x-goog-api-key", cfg.api_key);
    add_common_headers(spec, cfg, req);
    spec.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return spec;
}

}  // namespace ep::providers::sansio
