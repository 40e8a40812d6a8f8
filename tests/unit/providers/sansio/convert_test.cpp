#include <ep/providers/convert.hpp>
#include <ep/providers/error.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ep::providers;
using json = nlohmann::json;

// A conversation with text, two parallel tool calls, their results (one an error) and a
// follow-up, in normalised form as every from_* returns it.
conversation sample(bool with_error_result = true)
{
    conversation c;
    c.system = "You are a weather bot.";
    c.messages = {
        message::user_text("Weather and time in Paris?"),
        message{role::assistant,
                {text_part{"Let me check."}, tool_call{"call_1", "get_weather", "{\"city\":\"Paris\"}"},
                 tool_call{"call_2", "get_time", "{\"tz\":\"Europe/Paris\"}"}}},
        message{role::tool,
                {tool_result{"call_1", "get_weather", "18C", false},
                 tool_result{"call_2", "get_time", "timeout", with_error_result}}},
        message::user_text("And tomorrow?"),
        message::assistant_text("Rain."),
    };
    return c;
}

TEST(convert, openai_anthropic_openai)
{
    auto c = sample(false);  // OpenAI has no is_error
    auto oa = to_openai_messages(c);
    auto back = from_openai_messages(oa);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);
    auto an = to_anthropic_messages(*back);
    auto c2 = from_anthropic_messages(an);
    ASSERT_TRUE(c2);
    EXPECT_EQ(*c2, c);
    EXPECT_EQ(to_openai_messages(*c2), oa);
}

TEST(convert, anthropic_gemini_anthropic)
{
    auto c = sample();
    auto an = to_anthropic_messages(c);
    auto c1 = from_anthropic_messages(an);
    ASSERT_TRUE(c1);
    EXPECT_EQ(*c1, c);
    auto ge = to_gemini_messages(*c1);
    auto c2 = from_gemini_messages(ge);
    ASSERT_TRUE(c2);
    EXPECT_EQ(*c2, c);
    EXPECT_EQ(to_anthropic_messages(*c2), an);
}

TEST(convert, gemini_openai_gemini)
{
    auto c = sample(false);
    auto ge = to_gemini_messages(c);
    auto c1 = from_gemini_messages(ge);
    ASSERT_TRUE(c1);
    auto oa = to_openai_messages(*c1);
    auto c2 = from_openai_messages(oa);
    ASSERT_TRUE(c2);
    EXPECT_EQ(*c2, c);
    EXPECT_EQ(to_gemini_messages(*c2), ge);
}

TEST(convert, gemini_without_ids_pairs_results_by_name)
{
    json body = json::parse(R"({
      "systemInstruction": {"parts":[{"text":"Sys"}]},
      "contents": [
        {"role":"user","parts":[{"text":"Q"}]},
        {"role":"model","parts":[{"functionCall":{"name":"a","args":{"x":1}}},{"functionCall":{"name":"b","args":{}}},
                                 {"functionCall":{"name":"a","args":{"x":2}}}]},
        {"role":"user","parts":[{"functionResponse":{"name":"b","response":{"output":"B"}}},
                                {"functionResponse":{"name":"a","response":{"output":{"v":1}}}},
                                {"functionResponse":{"name":"a","response":{"error":"failed"}}}]}
      ]})");
    auto c = from_gemini_messages(body);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->system, "Sys");
    ASSERT_EQ(c->messages.size(), 3u);
    auto const& calls = c->messages[1].parts;
    auto const& results = c->messages[2].parts;
    ASSERT_EQ(results.size(), 3u);
    auto id_of_call = [&](std::size_t i) { return std::get<tool_call>(calls[i]).id; };
    auto r0 = std::get<tool_result>(results[0]);
    auto r1 = std::get<tool_result>(results[1]);
    auto r2 = std::get<tool_result>(results[2]);
    EXPECT_EQ(r0.tool_call_id, id_of_call(1));  // b
    EXPECT_EQ(r1.tool_call_id, id_of_call(0));  // first a
    EXPECT_EQ(r2.tool_call_id, id_of_call(2));  // second a
    EXPECT_NE(id_of_call(0), id_of_call(2));
    EXPECT_EQ(r1.content, "{\"v\":1}");
    EXPECT_TRUE(r2.is_error);
    EXPECT_EQ(std::get<tool_call>(calls[0]).arguments, "{\"x\":1}");

    // Made-up ids survive a trip through Anthropic and OpenAI.
    auto an = from_anthropic_messages(to_anthropic_messages(*c));
    ASSERT_TRUE(an);
    EXPECT_EQ(*an, *c);
    auto oa = from_openai_messages(to_openai_messages(*an));
    ASSERT_TRUE(oa);
    EXPECT_EQ(std::get<tool_result>(oa->messages[2].parts[1]).tool_call_id, id_of_call(0));
    EXPECT_EQ(std::get<tool_result>(oa->messages[2].parts[1]).name, "a");  // name recovered by id
}

TEST(convert, anthropic_string_content_system_blocks_and_text_after_results)
{
    json body = json::parse(R"({
      "system": [{"type":"text","text":"S1"}],
      "messages": [
        {"role":"user","content":"hello"},
        {"role":"assistant","content":[{"type":"thinking","thinking":"...","signature":"x"},
                                       {"type":"tool_use","id":"t1","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"R"}]},
                                  {"type":"text","text":"more"}]}
      ]})");
    auto c = from_anthropic_messages(body);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->system, "S1");
    ASSERT_EQ(c->messages.size(), 4u);
    ASSERT_EQ(c->messages[1].parts.size(), 2u);  // the thinking block is kept, for Anthropic only
    EXPECT_EQ(c->messages[1].parts[0], content_part(thinking_part{.protocol = "anthropic", .text = "...", .signature = "x"}));
    EXPECT_EQ(c->messages[2], (message{role::tool, {tool_result{"t1", "f", "R", false}}}));
    EXPECT_EQ(c->messages[3], message::user_text("more"));
}

TEST(convert, openai_developer_role_array_content_and_system_messages)
{
    json msgs = json::parse(R"([
      {"role":"developer","content":"D"},
      {"role":"system","content":[{"type":"text","text":"S"}]},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}
    ])");
    auto c = from_openai_messages(msgs);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->system, "D\n\nS");
    EXPECT_EQ(c->messages, std::vector<message>{message::user_text("a")});

    // role::system messages in the input are merged into the system prompt.
    conversation in{"Top", {message::system_text("More"), message::user_text("u")}};
    auto out = to_openai_messages(in);
    EXPECT_EQ(out[0], (json{{"role", "system"}, {"content", "Top\n\nMore"}}));
    EXPECT_EQ(out.size(), 2u);
    EXPECT_EQ(to_anthropic_messages(in)["system"], "Top\n\nMore");
}

TEST(convert, malformed_inputs_are_invalid_request)
{
    EXPECT_EQ(from_openai_messages(json::object()).error(), make_error_code(provider_errc::invalid_request));
    EXPECT_EQ(from_openai_messages(json::parse(R"([{"role":"robot","content":"x"}])")).error(),
              make_error_code(provider_errc::invalid_request));
    EXPECT_EQ(from_anthropic_messages(json::array()).error(), make_error_code(provider_errc::invalid_request));
    EXPECT_EQ(from_gemini_messages(json::parse(R"({"contents":[{"role":"user"}]})")).error(),
              make_error_code(provider_errc::invalid_request));
}

TEST(convert, non_object_arguments_are_preserved_for_object_only_formats)
{
    conversation c{"", {message{role::assistant, {tool_call{"i", "f", "not json"}}}}};
    auto an = to_anthropic_messages(c);
    EXPECT_EQ(an["messages"][0]["content"][0]["input"], (json{{"arguments", "not json"}}));
    auto ge = to_gemini_messages(c);
    EXPECT_EQ(ge["contents"][0]["parts"][0]["functionCall"]["args"], (json{{"arguments", "not json"}}));
}

}  // namespace

// Found by fuzz_convert: an assistant turn with nothing to send (no text, no calls) between two
// user turns split them into two consecutive user messages, which both APIs reject (roles
// alternate); the messages around it now merge, results first.
TEST(convert, an_empty_assistant_turn_does_not_split_the_turns_around_it)
{
    conversation c;
    c.messages = {message::user_text("Weather in Paris?"), message{role::assistant, {text_part{""}}},
                  message{role::tool, {tool_result{"call_1", "get_weather", "18C", false}}},
                  message::assistant_text("18C.")};
    const auto an = to_anthropic_messages(c);
    ASSERT_EQ(an["messages"].size(), 2u) << an.dump();
    EXPECT_EQ(an["messages"][0]["role"], "user");
    EXPECT_EQ(an["messages"][0]["content"][0]["type"], "tool_result");
    EXPECT_EQ(an["messages"][0]["content"][1]["text"], "Weather in Paris?");
    EXPECT_EQ(an["messages"][1]["role"], "assistant");
    const auto ge = to_gemini_messages(c);
    ASSERT_EQ(ge["contents"].size(), 2u) << ge.dump();
    EXPECT_EQ(ge["contents"][0]["role"], "user");
    EXPECT_TRUE(ge["contents"][0]["parts"][0].contains("functionResponse"));
    EXPECT_EQ(ge["contents"][1]["role"], "model");
}
