// Structured output, reasoning effort and prompt caching as each encoder puts them on the wire,
// and the OpenAI Responses request.
#include "sansio_private.hpp"

#include "protocols/common/request_features.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using json = nlohmann::json;

const json closed = {{"type", "object"},
                     {"properties", {{"verdict", {{"enum", {"approve", "reject"}}}}, {"notes", {{"type", "string"}}}}},
                     {"required", {"verdict", "notes"}},
                     {"additionalProperties", false}};
const json open_schema = {{"type", "object"}, {"properties", {{"verdict", {{"type", "string"}}}}}};

chat_request ask(std::string model = "m")
{
    chat_request req;
    req.model = std::move(model);
    req.system = "Be terse.";
    req.temperature = 0.3;
    req.top_p = 0.9;
    req.max_tokens = 1000;
    req.messages = {message::user_text("Review this.")};
    return req;
}

provider_config with_model_capability(const std::string& model, const std::string& capability)
{
    provider_config cfg;
    model_info m;
    m.id = model;
    m.max_output_tokens = 32000;
    m.capabilities.insert(capability);
    cfg.models.push_back(m);
    return cfg;
}

json body_of(const http_request& r) { return json::parse(r.body); }

TEST(schema_allows_strict, only_closed_objects_with_every_property_required)
{
    EXPECT_TRUE(schema_allows_strict(closed));
    EXPECT_FALSE(schema_allows_strict(open_schema));
    json missing_required = closed;
    missing_required["required"] = {"verdict"};
    EXPECT_FALSE(schema_allows_strict(missing_required));
    // Nested objects count too: an open one inside a closed one is not strict.
    json nested = closed;
    nested["properties"]["notes"] = {{"type", "object"}, {"properties", {{"x", {{"type", "string"}}}}}, {"required", {"x"}}};
    EXPECT_FALSE(schema_allows_strict(nested));
    nested["properties"]["notes"]["additionalProperties"] = false;
    EXPECT_TRUE(schema_allows_strict(nested));
    json in_array = {{"type", "array"}, {"items", open_schema}};
    EXPECT_FALSE(schema_allows_strict(in_array));
    EXPECT_TRUE(schema_allows_strict(json{{"type", "string"}}));
}

TEST(closed_schema, closes_every_object_and_leaves_the_rest)
{
    json s = {{"type", "object"},
              {"properties", {{"a", {{"type", "object"}, {"properties", json::object()}}}, {"b", {{"type", "string"}}}}},
              {"$defs", {{"d", {{"properties", {{"x", {{"type", "integer"}}}}}}}}}};
    auto c = closed_schema(s);
    EXPECT_EQ(c["additionalProperties"], false);
    EXPECT_EQ(c["properties"]["a"]["additionalProperties"], false);
    EXPECT_FALSE(c["properties"]["b"].contains("additionalProperties"));
    EXPECT_EQ(c["$defs"]["d"]["additionalProperties"], false);
    json explicit_open = {{"type", "object"}, {"additionalProperties", true}};
    EXPECT_EQ(closed_schema(explicit_open), explicit_open) << "a deliberate choice is kept";
}

TEST(structured_output, openai_is_strict_when_the_schema_allows_and_falls_back_by_capability)
{
    auto req = ask();
    req.json_mode = json_output{closed, "review"};
    auto b = body_of(encode_openai_request({}, "", req));
    EXPECT_EQ(b["response_format"],
              (json{{"type", "json_schema"}, {"json_schema", {{"name", "review"}, {"schema", closed}, {"strict", true}}}}));
    req.json_mode = json_output{open_schema, "review"};
    EXPECT_EQ(body_of(encode_openai_request({}, "", req))["response_format"]["json_schema"]["strict"], false);

    auto fallback = body_of(encode_openai_request(with_model_capability("m", "json_via_prompt"), "", req));
    EXPECT_EQ(fallback["response_format"], (json{{"type", "json_object"}}));
    auto system = fallback["messages"][0]["content"].get<std::string>();
    EXPECT_TRUE(system.starts_with("Be terse.\n\n")) << system;
    EXPECT_NE(system.find(open_schema.dump()), std::string::npos) << system;
}

TEST(structured_output, gemini_native_or_json_mode_with_the_schema_in_the_instruction)
{
    auto req = ask();
    req.json_mode = json_output{closed, "review"};
    auto b = body_of(encode_gemini_request({}, "", req));
    EXPECT_EQ(b["generationConfig"]["responseMimeType"], "application/json");
    EXPECT_EQ(b["generationConfig"]["responseJsonSchema"], closed);
    auto fallback = body_of(encode_gemini_request(with_model_capability("m", "json_via_prompt"), "", req));
    EXPECT_EQ(fallback["generationConfig"]["responseMimeType"], "application/json");
    EXPECT_FALSE(fallback["generationConfig"].contains("responseJsonSchema"));
    EXPECT_NE(fallback["systemInstruction"]["parts"].back()["text"].get<std::string>().find(closed.dump()),
              std::string::npos);
}

TEST(reasoning, openai_sends_reasoning_effort_and_no_sampling_knobs)
{
    auto req = ask();
    req.reasoning = reasoning_effort::high;
    auto b = body_of(encode_openai_request({}, "", req));
    EXPECT_EQ(b["reasoning_effort"], "high");
    EXPECT_FALSE(b.contains("temperature"));
    EXPECT_FALSE(b.contains("top_p"));
    req.reasoning.reset();
    EXPECT_FALSE(body_of(encode_openai_request({}, "", req)).contains("reasoning_effort"));
}

TEST(reasoning, anthropic_adaptive_with_effort_or_a_budget_for_older_models)
{
    auto req = ask();
    req.reasoning = reasoning_effort::low;
    auto b = body_of(encode_anthropic_request({}, "", req));
    EXPECT_EQ(b["thinking"], (json{{"type", "adaptive"}}));
    EXPECT_EQ(b["output_config"]["effort"], "low");
    EXPECT_FALSE(b.contains("temperature"));
    EXPECT_EQ(b["max_tokens"], 1000);

    auto budget = body_of(encode_anthropic_request(with_model_capability("m", "thinking_budget"), "", req));
    EXPECT_EQ(budget["thinking"], (json{{"type", "enabled"}, {"budget_tokens", 2048}}));
    EXPECT_EQ(budget["max_tokens"], 1000 + 2048) << "the budget counts toward max_tokens";
    EXPECT_FALSE(budget.contains("output_config"));
    req.reasoning = reasoning_effort::high;
    budget = body_of(encode_anthropic_request(with_model_capability("m", "thinking_budget"), "", req));
    EXPECT_EQ(budget["thinking"]["budget_tokens"], 24576);
    EXPECT_LT(budget["thinking"]["budget_tokens"].get<int>(), budget["max_tokens"].get<int>());

    // Forced tool use and thinking exclude each other: thinking is left off.
    req.tools = {tool_spec{"t", "", json{{"type", "object"}}}};
    req.choice = tool_choice{tool_choice::mode::named, "t"};
    auto forced = body_of(encode_anthropic_request({}, "", req));
    EXPECT_FALSE(forced.contains("thinking"));
    EXPECT_DOUBLE_EQ(forced["temperature"].get<double>(), 0.3);
}

TEST(reasoning, gemini_thinking_level_or_budget_with_thoughts)
{
    auto req = ask();
    req.reasoning = reasoning_effort::medium;
    auto b = body_of(encode_gemini_request({}, "", req));
    EXPECT_EQ(b["generationConfig"]["thinkingConfig"], (json{{"includeThoughts", true}, {"thinkingLevel", "medium"}}));
    EXPECT_FALSE(b["generationConfig"].contains("temperature"));
    auto budget = body_of(encode_gemini_request(with_model_capability("m", "thinking_budget"), "", req));
    EXPECT_EQ(budget["generationConfig"]["thinkingConfig"], (json{{"includeThoughts", true}, {"thinkingBudget", 8192}}));
}

TEST(prompt_caching, long_system_prompts_and_marked_blocks_get_cache_control)
{
    auto req = ask();
    req.system = std::string(5000, 's');
    req.messages = {message{role::user, {text_part{std::string(4096, 'c'), true}, text_part{"Question?"}}}};
    auto b = body_of(encode_anthropic_request({}, "", req));
    const json ephemeral = {{"type", "ephemeral"}};
    ASSERT_TRUE(b["system"].is_array());
    EXPECT_EQ(b["system"][0]["cache_control"], ephemeral);
    EXPECT_EQ(b["messages"][0]["content"][0]["cache_control"], ephemeral);
    EXPECT_FALSE(b["messages"][0]["content"][1].contains("cache_control")) << "not marked";

    // Too short to be worth a cache write; or caching off.
    req.cache.min_chars = 6000;
    b = body_of(encode_anthropic_request({}, "", req));
    EXPECT_TRUE(b["system"].is_string());
    EXPECT_FALSE(b["messages"][0]["content"][0].contains("cache_control"));
    req.cache = cache_options{.enabled = false};
    b = body_of(encode_anthropic_request({}, "", req));
    EXPECT_TRUE(b["system"].is_string());

    // At most four breakpoints, the last ones.
    req.cache = cache_options{.enabled = true, .min_chars = 10};
    req.messages = {message{role::user, {}}};
    for (int i = 0; i < 6; ++i)
        req.messages[0].parts.emplace_back(text_part{"block number " + std::to_string(i), true});
    b = body_of(encode_anthropic_request({}, "", req));
    EXPECT_FALSE(b["system"][0].contains("cache_control"));
    auto const& blocks = b["messages"][0]["content"];
    EXPECT_FALSE(blocks[1].contains("cache_control"));
    for (int i = 2; i < 6; ++i)
        EXPECT_EQ(blocks[i]["cache_control"], ephemeral) << i;
}

TEST(prompt_caching, a_json_instruction_goes_after_a_cached_system_prompt)
{
    auto req = ask();
    req.system = std::string(5000, 's');
    req.json_mode = json_output{};  // no schema: the instruction is the only way
    auto b = body_of(encode_anthropic_request({}, "", req));
    ASSERT_EQ(b["system"].size(), 2u);
    EXPECT_TRUE(b["system"][0].contains("cache_control"));
    EXPECT_NE(b["system"][1]["text"].get<std::string>().find("JSON"), std::string::npos);
}

TEST(encode_responses, request_shape_tools_format_and_reasoning)
{
    provider_config cfg;
    cfg.api_key = "sk-r";
    auto req = ask("gpt-x");
    req.stop = {"END"};
    req.tools = {tool_spec{"get_weather", "Weather", json{{"type", "object"}}}};
    req.choice = tool_choice{tool_choice::mode::named, "get_weather"};
    req.json_mode = json_output{closed, "review"};
    req.messages = {
        message::user_text("Weather in Paris?"),
        message{role::assistant, {thinking_part{.protocol = "openai_responses", .signature = "enc", .id = "rs_1"},
                                  tool_call{"call_1", "get_weather", "{\"city\":\"Paris\"}"}}},
        message{role::tool, {tool_result{"call_1", "get_weather", "18C", false}}},
    };
    auto spec = encode_responses_request(cfg, "/v1", req);
    EXPECT_EQ(spec.target, "/v1/responses");
    EXPECT_EQ(*find_http_header(spec.headers, "authorization"), "Bearer sk-r");
    auto b = body_of(spec);
    EXPECT_EQ(b["stream"], true);
    EXPECT_EQ(b["store"], false);
    EXPECT_EQ(b["instructions"], "Be terse.");
    EXPECT_EQ(b["max_output_tokens"], 1000);
    EXPECT_FALSE(b.contains("stop"));
    EXPECT_EQ(b["tools"][0], (json{{"type", "function"}, {"name", "get_weather"}, {"parameters", {{"type", "object"}}},
                                   {"description", "Weather"}}));
    EXPECT_EQ(b["tool_choice"], (json{{"type", "function"}, {"name", "get_weather"}}));
    EXPECT_EQ(b["text"]["format"]["type"], "json_schema");
    EXPECT_EQ(b["text"]["format"]["strict"], true);
    ASSERT_EQ(b["input"].size(), 4u);
    EXPECT_EQ(b["input"][0], (json{{"type", "message"}, {"role", "user"}, {"content", "Weather in Paris?"}}));
    EXPECT_EQ(b["input"][1],
              (json{{"type", "reasoning"}, {"id", "rs_1"}, {"summary", json::array()}, {"encrypted_content", "enc"}}));
    EXPECT_EQ(b["input"][2]["type"], "function_call");
    EXPECT_EQ(b["input"][2]["call_id"], "call_1");
    EXPECT_EQ(b["input"][3], (json{{"type", "function_call_output"}, {"call_id", "call_1"}, {"output", "18C"}}));
    EXPECT_DOUBLE_EQ(b["temperature"].get<double>(), 0.3);

    req.reasoning = reasoning_effort::high;
    b = body_of(encode_responses_request(cfg, "/v1", req));
    EXPECT_EQ(b["reasoning"], (json{{"effort", "high"}}));
    EXPECT_EQ(b["include"], json::array({"reasoning.encrypted_content"}));
    EXPECT_FALSE(b.contains("temperature"));

    cfg.azure_api_version = "2025-04-01-preview";
    spec = encode_responses_request(cfg, "/openai/v1", req);
    EXPECT_EQ(spec.target, "/openai/v1/responses?api-version=2025-04-01-preview");
    EXPECT_EQ(*find_http_header(spec.headers, "api-key"), "sk-r");
}

}  // namespace
