// Reasoning blocks and signatures through the conversation converters: each goes back to the
// protocol that made it, unchanged, and nowhere else; the Responses converter round-trips.
#include <ep/providers/convert.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ep::providers;
using json = nlohmann::json;

conversation tool_turn(content_part thinking, std::string signature = {})
{
    conversation c;
    c.system = "Use tools.";
    tool_call call{"call_1", "get_weather", "{\"city\":\"Paris\"}"};
    call.signature = std::move(signature);
    c.messages = {
        message::user_text("Weather in Paris?"),
        message{role::assistant, {std::move(thinking), call}},
        message{role::tool, {tool_result{"call_1", "get_weather", "18C", false}}},
    };
    return c;
}

TEST(convert_reasoning, anthropic_thinking_blocks_go_back_first_and_unchanged)
{
    auto c = tool_turn(thinking_part{.protocol = "anthropic", .text = "Need the tool.", .signature = "sig-1"});
    auto an = to_anthropic_messages(c);
    EXPECT_EQ(an["messages"][1]["content"][0],
              (json{{"type", "thinking"}, {"thinking", "Need the tool."}, {"signature", "sig-1"}}));
    EXPECT_EQ(an["messages"][1]["content"][1]["type"], "tool_use");
    auto back = from_anthropic_messages(an);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);

    auto redacted = tool_turn(thinking_part{.protocol = "anthropic", .redacted = "opaque"});
    an = to_anthropic_messages(redacted);
    EXPECT_EQ(an["messages"][1]["content"][0], (json{{"type", "redacted_thinking"}, {"data", "opaque"}}));
    EXPECT_EQ(*from_anthropic_messages(an), redacted);
}

TEST(convert_reasoning, gemini_signatures_travel_on_their_function_call_part)
{
    auto c = tool_turn(text_part{"Checking."}, "CtQBAdHt");
    auto ge = to_gemini_messages(c);
    auto const& part = ge["contents"][1]["parts"][1];
    EXPECT_EQ(part["thoughtSignature"], "CtQBAdHt");
    EXPECT_EQ(part["functionCall"]["name"], "get_weather");
    auto back = from_gemini_messages(ge);
    ASSERT_TRUE(back);
    EXPECT_EQ(std::get<tool_call>(back->messages[1].parts[1]).signature, "CtQBAdHt");
}

TEST(convert_reasoning, responses_input_round_trips_with_reasoning_items)
{
    auto c = tool_turn(thinking_part{.protocol = "openai_responses", .text = "sum", .signature = "enc", .id = "rs_9"});
    c.messages.push_back(message::user_text("And tomorrow?"));
    c.messages.push_back(message::assistant_text("Rain."));
    auto in = to_responses_input(c);
    EXPECT_EQ(in["instructions"], "Use tools.");
    EXPECT_EQ(in["input"][1], (json{{"type", "reasoning"},
                                    {"id", "rs_9"},
                                    {"summary", {{{"type", "summary_text"}, {"text", "sum"}}}},
                                    {"encrypted_content", "enc"}}));
    auto back = from_responses_input(in);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);
    EXPECT_EQ(to_responses_input(*back), in);

    auto plain = from_responses_input(json{{"input", "hi"}});
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->messages, std::vector<message>{message::user_text("hi")});
    EXPECT_FALSE(from_responses_input(json{{"input", {{{"type", "image_generation_call"}}}}}));
    EXPECT_FALSE(from_responses_input(json{{"instructions", "x"}}));
}

TEST(convert_reasoning, another_protocols_blocks_are_dropped)
{
    auto from_claude = tool_turn(thinking_part{.protocol = "anthropic", .text = "t", .signature = "s"});
    auto oa = to_openai_messages(from_claude);
    EXPECT_FALSE(oa[2].contains("thinking"));
    EXPECT_EQ(oa[2]["content"], nullptr);
    for (auto const& item : to_responses_input(from_claude)["input"])
        EXPECT_NE(item["type"], "reasoning");
    for (auto const& p : to_gemini_messages(from_claude)["contents"][1]["parts"])
        EXPECT_FALSE(p.contains("thought"));

    auto from_openai = tool_turn(thinking_part{.protocol = "openai_responses", .signature = "enc", .id = "rs"});
    auto an = to_anthropic_messages(from_openai);
    EXPECT_EQ(an["messages"][1]["content"].size(), 1u);
    EXPECT_EQ(an["messages"][1]["content"][0]["type"], "tool_use");
}

}  // namespace
