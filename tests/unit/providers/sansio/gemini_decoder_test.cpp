#include "split_checks.hpp"

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory gemini = [] { return make_gemini_decoder_with_id_prefix("gc_"); };

TEST(gemini_decoder, text_with_crlf_line_endings)
{
    auto bytes = load_transcript("gemini_text_crlf.sse");
    ASSERT_NE(bytes.find("\r\n"), std::string::npos);
    auto r = expect_split_invariant(gemini, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    EXPECT_TRUE(r.done_before_finish);
    std::vector<std::string> expected = {"text:The", "text: sky is blue",
                                         "text: because of Rayleigh scattering \xC3\xA9\xC3\xA8.",
                                         "text: Hazy appearance.", "usage:6/377/2", "finish:stop:STOP"};
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(gemini, bytes, bytes.size() - 1);  // the final CRLF pair completes the event
}

TEST(gemini_decoder, function_calls_get_made_up_ids)
{
    auto bytes = load_transcript("gemini_function_call.sse");
    auto r = expect_split_invariant(gemini, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "tool_delta:0:gc_0:customDivide:{\"denominator\":2,\"numerator\":10}",
        "tool_complete:0:gc_0:customDivide:{\"denominator\":2,\"numerator\":10}",
        "tool_delta:1:gc_1:customMultiply:{\"a\":3,\"b\":4}",
        "tool_complete:1:gc_1:customMultiply:{\"a\":3,\"b\":4}",
        "usage:50/12/0",
        "finish:tool_calls:STOP",  // STOP with functionCall parts means tool calls
    };
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(gemini, bytes, bytes.size());
}

TEST(gemini_decoder, default_ids_are_unique_per_decoder)
{
    auto bytes = load_transcript("gemini_function_call.sse");
    auto a = run_whole([] { return make_gemini_decoder(); }, bytes);
    auto b = run_whole([] { return make_gemini_decoder(); }, bytes);
    ASSERT_FALSE(a.ec);
    auto const& ca = std::get<tool_call_complete_event>(a.raw[1]).call;
    auto const& cb = std::get<tool_call_complete_event>(b.raw[1]).call;
    EXPECT_TRUE(ca.id.starts_with("call_"));
    EXPECT_NE(ca.id, cb.id);
}

TEST(gemini_decoder, error_chunk_is_classified_by_code)
{
    auto bytes = load_transcript("gemini_error_chunk.sse");
    auto r = expect_split_invariant(gemini, bytes);
    EXPECT_EQ(r.ec, make_error_code(provider_errc::overloaded));
    EXPECT_EQ(r.diag.http_status, 503);
    EXPECT_EQ(r.diag.provider_type, "UNAVAILABLE");
    EXPECT_EQ(r.events, std::vector<std::string>{"text:Start"});

    auto q = run_whole(gemini, "data: {\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\","
                               "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"1.5s\"}]}}\n\n");
    EXPECT_EQ(q.ec, make_error_code(provider_errc::rate_limited));
    ASSERT_TRUE(q.diag.retry_after);
    EXPECT_EQ(q.diag.retry_after->count(), 1500);
}

TEST(gemini_decoder, finish_reasons_are_mapped)
{
    for (auto [raw, mapped] : {std::pair{"MAX_TOKENS", "length"}, std::pair{"SAFETY", "content_filter"},
                               std::pair{"RECITATION", "content_filter"}, std::pair{"PROHIBITED_CONTENT", "content_filter"},
                               std::pair{"MALFORMED_FUNCTION_CALL", "other"}})
    {
        std::string s = std::string("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}],\"role\":\"model\"},\"finishReason\":\"") +
                        raw + "\"}]}\n\n";
        auto r = run_whole(gemini, s);
        ASSERT_FALSE(r.ec);
        EXPECT_EQ(r.events.back(), std::string("finish:") + mapped + ":" + raw);
    }
}

TEST(gemini_decoder, blocked_prompt_finishes_with_content_filter)
{
    auto r = run_whole(gemini, "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":9}}\n\n");
    ASSERT_FALSE(r.ec);
    std::vector<std::string> expected = {"usage:9/0/0", "finish:content_filter:SAFETY"};
    EXPECT_EQ(r.events, expected);
}

TEST(gemini_decoder, thought_parts_are_not_text)
{
    auto r = run_whole(gemini, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hmm\",\"thought\":true},{\"text\":\"ok\"}]},\"finishReason\":\"STOP\"}]}\n\n");
    ASSERT_FALSE(r.ec);
    ASSERT_GE(r.events.size(), 2u);
    EXPECT_EQ(r.events[0], "reasoning:hmm");  // a thought summary: reasoning, never answer text
    EXPECT_EQ(r.events[1], "text:ok");
}

TEST(gemini_decoder, json_array_body_is_a_clear_error)
{
    auto r = expect_split_invariant(gemini, "  [{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}\n,\n]");
    EXPECT_EQ(r.ec, make_error_code(provider_errc::malformed_event));
    EXPECT_NE(r.diag.message.find("alt=sse"), std::string::npos);
}

}  // namespace
