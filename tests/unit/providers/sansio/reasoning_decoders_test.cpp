// Reasoning in every decoder — never answer text, its tokens counted, the blocks a provider
// needs back kept — and the Responses API decoder, each split at every byte offset.
#include "split_checks.hpp"

#include "protocols/openai_responses/openai_responses.hpp"

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory anthropic = [] { return make_anthropic_decoder(); };
const decoder_factory gemini = [] { return make_gemini_decoder_with_id_prefix("g_"); };
const decoder_factory openai = [] { return make_openai_decoder(); };
const decoder_factory openai_full = [] { return make_openai_decoder_full_parse(); };
const decoder_factory responses = [] { return make_responses_decoder(); };

chat_response aggregate(const decode_result& r)
{
    chat_response resp;
    for (auto const& e : r.raw)
        resp.apply(e);
    return resp;
}

TEST(anthropic_decoder, thinking_blocks_are_kept_and_never_answer_text)
{
    auto bytes = load_transcript("anthropic_thinking.sse");
    auto r = expect_split_invariant(anthropic, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "reasoning:The user wants ",
        "reasoning:the weather.",
        "thinking:anthropic::The user wants the weather.:EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk:",
        "thinking:anthropic::::EmwKAhgBEgy3va3pzix",
        "tool_delta:0:toolu_01B:get_weather:",
        "tool_delta:0:::{\"city\": \"Paris\"}",
        "tool_complete:0:toolu_01B:get_weather:{\"city\": \"Paris\"}",
        "usage:2168/90/0/w2048/r0",  // input = 120 + 2048 written to the cache
        "finish:tool_calls:tool_use",
    };
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(anthropic, bytes, bytes.size());

    auto resp = aggregate(r);
    EXPECT_TRUE(resp.text.empty());
    EXPECT_EQ(resp.reasoning, "The user wants the weather.");
    // The next turn starts with both blocks, unchanged, then the call.
    auto m = resp.to_message();
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(std::get<thinking_part>(m.parts[0]).signature, "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk");
    EXPECT_EQ(std::get<thinking_part>(m.parts[1]).redacted, "EmwKAhgBEgy3va3pzix");
    EXPECT_EQ(std::get<tool_call>(m.parts[2]).id, "toolu_01B");
}

TEST(gemini_decoder, thought_summaries_signatures_and_thought_tokens)
{
    auto bytes = load_transcript("gemini_thinking.sse");
    auto r = expect_split_invariant(gemini, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "reasoning:Considering the weather tool.",
        "tool_delta:0:g_0:get_weather:{\"city\":\"Paris\"}",
        "tool_complete:0:g_0:get_weather:{\"city\":\"Paris\"}:sig=CtQBAdHtim9x",
        "usage:40/108/0/w0/r96",  // output = 12 candidates + 96 thoughts, priced as output
        "finish:tool_calls:STOP",
    };
    EXPECT_EQ(r.events, expected);
    // CRLF framing: the final CR already ends the last event (an empty line), as SSE says.
    expect_prefixes_truncated(gemini, bytes, bytes.size() - 1);
    EXPECT_TRUE(aggregate(r).text.empty());
}

TEST(openai_decoder, reasoning_content_and_reasoning_tokens)
{
    auto bytes = load_transcript("openai_reasoning.sse");
    for (auto const* make : {&openai, &openai_full})
    {
        auto r = expect_split_invariant(*make, bytes);
        ASSERT_FALSE(r.ec) << r.diag.to_string();
        std::vector<std::string> expected = {"reasoning:Let me think.", "text:42", "usage:20/150/0/w0/r128",
                                             "finish:stop:stop"};
        EXPECT_EQ(r.events, expected);
        EXPECT_EQ(aggregate(r).text, "42");
    }
}

TEST(responses_decoder, text_reasoning_item_and_usage)
{
    auto bytes = load_transcript("responses_text.sse");
    auto r = expect_split_invariant(responses, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "reasoning:Thinking about caf\xC3\xA9s.",
        "thinking:openai_responses:rs_1:Thinking about caf\xC3\xA9s.:gAAAAB-enc:",
        "text:Hello, ",
        "text:caf\xC3\xA9 \xE2\x98\x95",
        "usage:37/111/5/w0/r100",
        "finish:stop:completed",
    };
    EXPECT_EQ(r.events, expected);
    EXPECT_TRUE(r.done_before_finish);
    expect_prefixes_truncated(responses, bytes, bytes.size());
}

TEST(responses_decoder, function_call_and_a_trailing_done)
{
    auto bytes = load_transcript("responses_tool_call.sse");
    auto r = expect_split_invariant(responses, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "tool_delta:0:call_A:get_weather:",
        "tool_delta:0:::{\"city\":",
        "tool_delta:0:::\"Paris\"}",
        "tool_complete:0:call_A:get_weather:{\"city\":\"Paris\"}",
        "usage:50/12/0",
        "finish:tool_calls:completed",
    };
    EXPECT_EQ(r.events, expected);
    // Complete at response.completed: the [DONE] after it changes nothing.
    expect_prefixes_truncated(responses, bytes, bytes.find("data: [DONE]") - 1);
}

TEST(responses_decoder, failed_response_and_error_events_are_errors)
{
    auto bytes = load_transcript("responses_failed.sse");
    auto r = expect_split_invariant(responses, bytes);
    EXPECT_EQ(r.ec, make_error_code(provider_errc::overloaded));
    EXPECT_EQ(r.diag.provider_type, "server_error");
    EXPECT_EQ(r.diag.provider_message, "The model failed to generate a response.");
    EXPECT_EQ(r.events, std::vector<std::string>{"text:Partial"});

    auto err = run_whole(responses, "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\","
                                    "\"message\":\"Slow down\",\"param\":null}\n\n");
    EXPECT_EQ(err.ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(err.diag.provider_message, "Slow down");
}

TEST(responses_decoder, incomplete_responses_finish_with_their_reason)
{
    auto incomplete = [](const std::string& reason) {
        return run_whole(responses, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
                                    "\"output_index\":0,\"delta\":\"Cut\"}\n\nevent: response.incomplete\ndata: "
                                    "{\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\","
                                    "\"incomplete_details\":{\"reason\":\"" +
                                        reason + "\"},\"usage\":{\"input_tokens\":3,\"output_tokens\":9}}}\n\n");
    };
    auto r = incomplete("max_output_tokens");
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    EXPECT_EQ(r.events.back(), "finish:length:max_output_tokens");
    EXPECT_EQ(incomplete("content_filter").events.back(), "finish:content_filter:content_filter");

    auto malformed = run_whole(responses, "event: response.output_text.delta\ndata: {\"delta\":\n\n");
    EXPECT_EQ(malformed.ec, make_error_code(provider_errc::malformed_event));
}

}  // namespace
