#include "split_checks.hpp"

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory anthropic = [] { return make_anthropic_decoder(); };

TEST(anthropic_decoder, text_transcript)
{
    auto bytes = load_transcript("anthropic_text.sse");
    ASSERT_FALSE(bytes.empty());
    auto r = expect_split_invariant(anthropic, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    EXPECT_TRUE(r.done_before_finish);
    // input = 377 + 10 cache creation + 100 cache read; output from the last message_delta.
    std::vector<std::string> expected = {"text:Here is ", "text:the review: ", "text:looks g\xC3\xB6od ",
                                         "text:\xE2\x9C\x94", "usage:487/15/100/w10/r0", "finish:stop:end_turn"};
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(anthropic, bytes, bytes.size());
}

TEST(anthropic_decoder, tool_use_with_ping_and_unknown_event)
{
    auto bytes = load_transcript("anthropic_tool_use.sse");
    auto r = expect_split_invariant(anthropic, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "text:I'll check the weather.",
        "tool_delta:0:toolu_01A:get_weather:",  // ordinal 0 although the block index is 1
        "tool_delta:0:::{\"locati",
        "tool_delta:0:::on\": \"Paris\"}",
        "tool_complete:0:toolu_01A:get_weather:{\"location\": \"Paris\"}",
        "usage:487/65/100/w10/r0",  // cumulative output: the last value, not the sum
        "finish:tool_calls:tool_use",
    };
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(anthropic, bytes, bytes.size());

    chat_response resp;
    for (auto const& e : r.raw)
        resp.apply(e);
    ASSERT_EQ(resp.tool_calls.size(), 1u);
    EXPECT_EQ(resp.tool_calls[0].id, "toolu_01A");
}

TEST(anthropic_decoder, overloaded_error_event)
{
    auto bytes = load_transcript("anthropic_overloaded.sse");
    auto r = expect_split_invariant(anthropic, bytes);
    EXPECT_EQ(r.ec, make_error_code(provider_errc::overloaded));
    EXPECT_TRUE(is_retryable(r.ec));
    EXPECT_EQ(r.diag.provider_type, "overloaded_error");
    EXPECT_EQ(r.diag.provider_message, "Overloaded");
    EXPECT_EQ(r.events, std::vector<std::string>{"text:Partial"});
}

TEST(anthropic_decoder, in_stream_error_types)
{
    auto run = [](std::string type, std::string message) {
        return run_whole(anthropic, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"" + type +
                                        "\",\"message\":\"" + message + "\"}}\n\n");
    };
    EXPECT_EQ(run("rate_limit_error", "x").ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(run("api_error", "x").ec, make_error_code(provider_errc::overloaded));
    EXPECT_EQ(run("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum").ec,
              make_error_code(provider_errc::context_length_exceeded));
    EXPECT_EQ(run("authentication_error", "bad key").ec, make_error_code(provider_errc::auth_failed));
}

TEST(anthropic_decoder, stop_reasons_are_mapped)
{
    for (auto [raw, mapped] :
         {std::pair{"max_tokens", "length"}, std::pair{"refusal", "content_filter"},
          std::pair{"model_context_window_exceeded", "length"}, std::pair{"stop_sequence", "stop"},
          std::pair{"pause_turn", "other"}})
    {
        std::string s = std::string("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"") +
                        raw + "\"},\"usage\":{\"output_tokens\":3}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        auto r = run_whole(anthropic, s);
        ASSERT_FALSE(r.ec);
        EXPECT_EQ(r.events.back(), std::string("finish:") + mapped + ":" + raw);
    }
}

TEST(anthropic_decoder, empty_tool_input_is_an_empty_object)
{
    std::string s =
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"now\",\"input\":{}}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    auto r = run_whole(anthropic, s);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.events[1], "tool_complete:0:t:now:{}");
}

TEST(anthropic_decoder, events_without_names_dispatch_on_type)
{
    auto r = run_whole(anthropic, "data: {\"type\":\"message_stop\"}\n\n");
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.events.back(), "finish:other:");
}

}  // namespace
