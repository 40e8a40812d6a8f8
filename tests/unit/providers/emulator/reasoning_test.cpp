// Reasoning and prompt caching in the Chat Completions, Messages and Gemini endpoints: what a
// thinking model sends, and the follow-ups it refuses when a block or signature is dropped.
#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

TEST_F(emulator_test, openai_reasoning_effort_counts_reasoning_tokens)
{
    auto body = openai_body("o-emu", false);
    body["reasoning_effort"] = "medium";
    auto j = openai(body).json();
    auto usage = j["usage"];
    EXPECT_EQ(usage["completion_tokens_details"]["reasoning_tokens"], 64);
    auto text = j["choices"][0]["message"]["content"].get<std::string>();
    EXPECT_EQ(usage["completion_tokens"].get<int>(), static_cast<int>((text.size() + 3) / 4) + 64);
    EXPECT_EQ(text.find("reasoning"), std::string::npos) << "Chat Completions never shows the reasoning";
}

TEST_F(emulator_test, anthropic_thinking_block_first_then_a_follow_up_must_keep_it)
{
    auto body = anthropic_body("claude-emu", true, "", "Weather in Paris?");
    body["thinking"] = {{"type", "adaptive"}};
    body["output_config"] = {{"effort", "low"}};
    body["tools"] = json::array({{{"name", "get_weather"}, {"input_schema", weather_schema()}}});
    auto events = parse_sse(anthropic(body).body);
    json thinking_start;
    std::string thinking, signature;
    json tool_block;
    for (const auto& e : events)
    {
        auto j = e.json();
        if (e.event == "content_block_start" && j["index"] == 0)
            thinking_start = j["content_block"];
        if (e.event == "content_block_start" && j["index"] == 1)
            tool_block = j["content_block"];
        if (e.event == "content_block_delta" && j["delta"]["type"] == "thinking_delta")
            thinking += j["delta"]["thinking"].get<std::string>();
        if (e.event == "content_block_delta" && j["delta"]["type"] == "signature_delta")
            signature = j["delta"]["signature"];
    }
    EXPECT_EQ(thinking_start["type"], "thinking");
    EXPECT_NE(thinking.find("effort low"), std::string::npos) << thinking;
    EXPECT_FALSE(signature.empty());
    ASSERT_EQ(tool_block["type"], "tool_use");

    json call = {{"type", "tool_use"}, {"id", tool_block["id"]}, {"name", "get_weather"}, {"input", {{"city", "Paris"}}}};
    json result = {{"role", "user"},
                   {"content", {{{"type", "tool_result"}, {"tool_use_id", tool_block["id"]}, {"content", "18C"}}}}};
    body["stream"] = false;
    body["messages"] = {body["messages"][0],
                        {{"role", "assistant"},
                         {"content", {{{"type", "thinking"}, {"thinking", thinking}, {"signature", signature}}, call}}},
                        result};
    EXPECT_EQ(anthropic(body).status, 200u);

    body["messages"][1]["content"] = {call};  // the thinking block dropped
    auto refused = anthropic(body);
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(refused.body.find("Expected `thinking` or `redacted_thinking`"), std::string::npos) << refused.body;

    body["messages"][1]["content"] = {{{"type", "thinking"}, {"thinking", thinking}, {"signature", "forged"}}, call};
    EXPECT_EQ(anthropic(body).status, 400u) << "a changed signature is refused too";
}

TEST_F(emulator_test, anthropic_prompt_cache_is_written_then_read)
{
    auto body = anthropic_body("claude-emu", false);
    body["system"] = {{{"type", "text"}, {"text", std::string(6000, 'x')}, {"cache_control", {{"type", "ephemeral"}}}}};
    auto first = anthropic(body).json()["usage"];
    EXPECT_GE(first["cache_creation_input_tokens"].get<int>(), 1500);
    EXPECT_EQ(first["cache_read_input_tokens"], 0);
    auto second = anthropic(body).json()["usage"];
    EXPECT_EQ(second["cache_read_input_tokens"], first["cache_creation_input_tokens"]);
    EXPECT_EQ(second["cache_creation_input_tokens"], 0);
    EXPECT_LT(second["input_tokens"].get<int>(), 100) << "cached tokens are not input_tokens";

    body["system"][0].erase("cache_control");  // unmarked: nothing cached
    auto plain = anthropic(body).json()["usage"];
    EXPECT_EQ(plain["cache_read_input_tokens"], 0);
    EXPECT_EQ(plain["cache_creation_input_tokens"], 0);
}

TEST_F(emulator_test, gemini_thoughts_signatures_and_the_follow_up_check)
{
    auto body = gemini_body("", "Weather in Paris?");
    body["generationConfig"] = {{"thinkingConfig", {{"thinkingLevel", "high"}, {"includeThoughts", true}}}};
    json declaration = {{"name", "get_weather"}, {"parametersJsonSchema", weather_schema()}};
    body["tools"] = json::array({json{{"functionDeclarations", json::array({declaration})}}});
    auto j = gemini("gemini-emu", false, body).json();
    auto parts = j["candidates"][0]["content"]["parts"];
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0]["thought"], true);
    ASSERT_TRUE(parts[1].contains("functionCall"));
    auto signature = parts[1]["thoughtSignature"];
    EXPECT_TRUE(signature.is_string());
    EXPECT_EQ(j["usageMetadata"]["thoughtsTokenCount"], 256);

    json model_turn = {{"role", "model"}, {"parts", {parts[1]}}};
    json response = {{"name", "get_weather"}, {"response", {{"output", "18C"}}}};
    json answer = {{"role", "user"}, {"parts", json::array({json{{"functionResponse", response}}})}};
    body["contents"] = {body["contents"][0], model_turn, answer};
    EXPECT_EQ(gemini("gemini-emu", false, body).status, 200u);
    body["contents"][1]["parts"][0].erase("thoughtSignature");
    auto refused = gemini("gemini-emu", false, body);
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(refused.body.find("thought_signature"), std::string::npos) << refused.body;
}

}  // namespace
}  // namespace ep::emulator::test
