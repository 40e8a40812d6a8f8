#include "sansio_private.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using json = nlohmann::json;

chat_request tool_request()
{
    chat_request req;
    req.model = "m-1";
    req.system = "Be terse.";
    req.max_tokens = 512;
    req.temperature = 0.2;
    req.top_p = 0.9;
    req.stop = {"END"};
    req.metadata = {{"persona", "architect"}};
    req.tools = {tool_spec{"get_weather", "Weather for a city",
                           json{{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}};
    req.choice = tool_choice{tool_choice::mode::named, "get_weather"};
    req.messages = {
        message::user_text("Weather in Paris?"),
        message{role::assistant, {text_part{"Checking."}, tool_call{"call_1", "get_weather", "{\"city\":\"Paris\"}"}}},
        message{role::tool, {tool_result{"call_1", "get_weather", "18C", false}}},
        message::user_text("Thanks. And tomorrow?"),
    };
    return req;
}

std::string header(const ep::providers::http_request& s, std::string_view name)
{
    auto const* v = ep::providers::find_http_header(s.headers, name);
    return v ? *v : "<absent>";
}

void expect_common_headers(const ep::providers::http_request& s)
{
    EXPECT_EQ(s.method, "POST");
    EXPECT_EQ(header(s, "content-type"), "application/json");
    EXPECT_EQ(header(s, "accept"), "text/event-stream");
    EXPECT_EQ(header(s, "accept-encoding"), "<absent>");
    EXPECT_EQ(header(s, "x-ep-persona"), "architect");
    EXPECT_EQ(header(s, "X-Extra"), "1");
}

provider_config config_with_key(std::string key)
{
    provider_config cfg;
    cfg.api_key = std::move(key);
    cfg.extra_headers = {{"X-Extra", "1"}};
    return cfg;
}

TEST(encode_openai, body_and_headers)
{
    auto cfg = config_with_key("sk-test");
    auto spec = encode_openai_request(cfg, "/v1/", tool_request());
    EXPECT_EQ(spec.target, "/v1/chat/completions");
    EXPECT_EQ(header(spec, "authorization"), "Bearer sk-test");
    expect_common_headers(spec);

    auto b = json::parse(spec.body);
    EXPECT_EQ(b["model"], "m-1");
    EXPECT_EQ(b["stream"], true);
    EXPECT_EQ(b["stream_options"]["include_usage"], true);
    EXPECT_EQ(b["max_tokens"], 512);
    EXPECT_FALSE(b.contains("max_completion_tokens"));
    EXPECT_DOUBLE_EQ(b["temperature"].get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(b["top_p"].get<double>(), 0.9);
    EXPECT_EQ(b["stop"], json::array({"END"}));
    EXPECT_EQ(b["tools"][0]["type"], "function");
    EXPECT_EQ(b["tools"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(b["tools"][0]["function"]["parameters"]["type"], "object");
    EXPECT_EQ(b["tool_choice"], (json{{"type", "function"}, {"function", {{"name", "get_weather"}}}}));
    auto const& m = b["messages"];
    ASSERT_EQ(m.size(), 5u);
    EXPECT_EQ(m[0], (json{{"role", "system"}, {"content", "Be terse."}}));
    EXPECT_EQ(m[1], (json{{"role", "user"}, {"content", "Weather in Paris?"}}));
    EXPECT_EQ(m[2]["role"], "assistant");
    EXPECT_EQ(m[2]["content"], "Checking.");
    EXPECT_EQ(m[2]["tool_calls"][0]["id"], "call_1");
    EXPECT_EQ(m[2]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    EXPECT_EQ(m[3], (json{{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "18C"}}));
    EXPECT_EQ(m[4]["role"], "user");
}

TEST(encode_openai, azure_and_max_completion_tokens_and_json_modes)
{
    auto cfg = config_with_key("az-key");
    cfg.azure_api_version = "2024-10-21";
    cfg.use_max_completion_tokens = true;
    auto req = tool_request();
    req.tools.clear();
    req.json_mode = json_output{json{{"type", "object"}}, "answer"};
    auto spec = encode_openai_request(cfg, "/openai/deployments/gpt4o", req);
    EXPECT_EQ(spec.target, "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21");
    EXPECT_EQ(header(spec, "api-key"), "az-key");
    EXPECT_EQ(header(spec, "authorization"), "<absent>");
    auto b = json::parse(spec.body);
    EXPECT_EQ(b["max_completion_tokens"], 512);
    EXPECT_FALSE(b.contains("max_tokens"));
    EXPECT_FALSE(b.contains("tools"));
    EXPECT_FALSE(b.contains("tool_choice"));
    EXPECT_EQ(b["response_format"]["type"], "json_schema");
    EXPECT_EQ(b["response_format"]["json_schema"]["name"], "answer");
    EXPECT_EQ(b["response_format"]["json_schema"]["schema"], (json{{"type", "object"}}));
    EXPECT_EQ(b["response_format"]["json_schema"]["strict"], false);  // an open object: not strict

    req.json_mode = json_output{};
    b = json::parse(encode_openai_request(cfg, "", req).body);
    EXPECT_EQ(b["response_format"], (json{{"type", "json_object"}}));
}

TEST(encode_openai, no_key_no_auth_header_and_tool_choice_modes)
{
    auto req = tool_request();
    auto spec = encode_openai_request(provider_config{}, "/v1", req);
    EXPECT_EQ(header(spec, "authorization"), "<absent>");
    for (auto [mode, expected] : {std::pair{tool_choice::mode::auto_, "auto"}, std::pair{tool_choice::mode::none, "none"},
                                  std::pair{tool_choice::mode::required, "required"}})
    {
        req.choice = tool_choice{mode, {}};
        EXPECT_EQ(json::parse(encode_openai_request(provider_config{}, "/v1", req).body)["tool_choice"], expected);
    }
}

TEST(encode_anthropic, body_and_headers)
{
    auto cfg = config_with_key("sk-ant");
    auto spec = encode_anthropic_request(cfg, "", tool_request());
    EXPECT_EQ(spec.target, "/v1/messages");
    EXPECT_EQ(header(spec, "x-api-key"), "sk-ant");
    EXPECT_EQ(header(spec, "anthropic-version"), "2023-06-01");
    expect_common_headers(spec);
    EXPECT_EQ(encode_anthropic_request(cfg, "/v1", tool_request()).target, "/v1/messages");
    EXPECT_EQ(encode_anthropic_request(cfg, "/proxy/", tool_request()).target, "/proxy/v1/messages");

    auto b = json::parse(spec.body);
    EXPECT_EQ(b["model"], "m-1");
    EXPECT_EQ(b["system"], "Be terse.");
    EXPECT_EQ(b["max_tokens"], 512);
    EXPECT_EQ(b["stream"], true);
    EXPECT_EQ(b["stop_sequences"], json::array({"END"}));
    EXPECT_EQ(b["tools"][0]["name"], "get_weather");
    EXPECT_EQ(b["tools"][0]["input_schema"]["type"], "object");
    EXPECT_EQ(b["tool_choice"], (json{{"type", "tool"}, {"name", "get_weather"}}));
    auto const& m = b["messages"];
    ASSERT_EQ(m.size(), 3u);  // user, assistant, user(tool_result + text)
    EXPECT_EQ(m[0]["role"], "user");
    EXPECT_EQ(m[1]["content"][1], (json{{"type", "tool_use"}, {"id", "call_1"}, {"name", "get_weather"},
                                        {"input", {{"city", "Paris"}}}}));
    EXPECT_EQ(m[2]["role"], "user");
    EXPECT_EQ(m[2]["content"][0]["type"], "tool_result");  // results first
    EXPECT_EQ(m[2]["content"][0]["tool_use_id"], "call_1");
    EXPECT_EQ(m[2]["content"][1], (json{{"type", "text"}, {"text", "Thanks. And tomorrow?"}}));
}

TEST(encode_anthropic, max_tokens_defaults_and_json_mode)
{
    provider_config cfg;
    model_info mi;
    mi.id = "m-1";
    mi.max_output_tokens = 16000;
    cfg.models = {mi};
    auto req = tool_request();
    req.max_tokens.reset();
    EXPECT_EQ(json::parse(encode_anthropic_request(cfg, "", req).body)["max_tokens"], 16000);
    req.model = "unknown";
    EXPECT_EQ(json::parse(encode_anthropic_request(cfg, "", req).body)["max_tokens"], 4096);

    // Structured output natively (output_config.format), objects closed as the API requires.
    req.json_mode = json_output{json{{"type", "object"}}, "x"};
    auto native = json::parse(encode_anthropic_request(cfg, "", req).body);
    EXPECT_EQ(native["output_config"]["format"],
              (json{{"type", "json_schema"}, {"schema", {{"type", "object"}, {"additionalProperties", false}}}}));
    EXPECT_EQ(native["system"], "Be terse.");
    // A model without it (capability json_via_prompt): the schema goes into the system prompt.
    req.model = "m-1";
    cfg.models[0].capabilities.insert("json_via_prompt");
    auto fallback = json::parse(encode_anthropic_request(cfg, "", req).body);
    EXPECT_FALSE(fallback.contains("output_config"));
    auto system = fallback["system"].get<std::string>();
    EXPECT_TRUE(system.starts_with("Be terse.\n\n"));
    EXPECT_NE(system.find("JSON"), std::string::npos);
    EXPECT_NE(system.find("{\"type\":\"object\"}"), std::string::npos);

    req.choice = tool_choice{tool_choice::mode::required, {}};
    EXPECT_EQ(json::parse(encode_anthropic_request(cfg, "", req).body)["tool_choice"], (json{{"type", "any"}}));
}

TEST(encode_gemini, body_and_headers)
{
    auto cfg = config_with_key("g-key");
    auto spec = encode_gemini_request(cfg, "/v1beta", tool_request());
    EXPECT_EQ(spec.target, "/v1beta/models/m-1:streamGenerateContent?alt=sse");
    EXPECT_EQ(header(spec, "x-goog-api-key"), "g-key");
    expect_common_headers(spec);
    auto req = tool_request();
    req.model = "models/m-2";
    EXPECT_EQ(encode_gemini_request(cfg, "/v1beta/", req).target, "/v1beta/models/m-2:streamGenerateContent?alt=sse");

    auto b = json::parse(spec.body);
    EXPECT_EQ(b["systemInstruction"], (json{{"parts", json::array({{{"text", "Be terse."}}})}}));
    EXPECT_EQ(b["generationConfig"]["maxOutputTokens"], 512);
    EXPECT_DOUBLE_EQ(b["generationConfig"]["temperature"].get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(b["generationConfig"]["topP"].get<double>(), 0.9);
    EXPECT_EQ(b["generationConfig"]["stopSequences"], json::array({"END"}));
    EXPECT_EQ(b["tools"][0]["functionDeclarations"][0]["name"], "get_weather");
    EXPECT_EQ(b["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"]["type"], "object");
    EXPECT_EQ(b["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
    EXPECT_EQ(b["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"], json::array({"get_weather"}));
    auto const& c = b["contents"];
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0]["role"], "user");
    EXPECT_EQ(c[1]["role"], "model");
    EXPECT_EQ(c[1]["parts"][1]["functionCall"]["name"], "get_weather");
    EXPECT_EQ(c[1]["parts"][1]["functionCall"]["args"], (json{{"city", "Paris"}}));
    EXPECT_EQ(c[2]["role"], "user");
    EXPECT_EQ(c[2]["parts"][0]["functionResponse"]["name"], "get_weather");
    EXPECT_EQ(c[2]["parts"][0]["functionResponse"]["response"], (json{{"output", "18C"}}));
    EXPECT_EQ(c[2]["parts"][1]["text"], "Thanks. And tomorrow?");
}

TEST(encode_gemini, json_mode_and_minimal_request)
{
    chat_request req;
    req.model = "g";
    req.messages = {message::user_text("hi")};
    auto b = json::parse(encode_gemini_request(provider_config{}, "", req).body);
    EXPECT_FALSE(b.contains("generationConfig"));
    EXPECT_FALSE(b.contains("systemInstruction"));
    EXPECT_FALSE(b.contains("tools"));
    req.json_mode = json_output{json{{"type", "array"}}, "x"};
    b = json::parse(encode_gemini_request(provider_config{}, "", req).body);
    EXPECT_EQ(b["generationConfig"]["responseMimeType"], "application/json");
    EXPECT_EQ(b["generationConfig"]["responseJsonSchema"], (json{{"type", "array"}}));
}

TEST(encode, metadata_header_values_cannot_inject_lines)
{
    chat_request req;
    req.model = "m";
    req.metadata = {{"run id", "a\r\nX-Evil: 1"}};
    auto spec = encode_openai_request(provider_config{}, "", req);
    EXPECT_EQ(header(spec, "x-ep-run-id"), "a  X-Evil: 1");
}

}  // namespace
