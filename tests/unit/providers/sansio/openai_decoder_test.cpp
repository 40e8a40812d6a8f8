#include "split_checks.hpp"

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory openai = [] { return make_openai_decoder(); };

std::size_t end_of_event_containing(std::string_view s, std::string_view needle)
{
    auto at = s.find(needle);
    EXPECT_NE(at, std::string_view::npos);
    return s.find("\n\n", at) + 2;
}

TEST(openai_decoder, text_with_usage_transcript)
{
    auto bytes = load_transcript("openai_text_usage.sse");
    ASSERT_FALSE(bytes.empty());
    auto r = expect_split_invariant(openai, bytes);
    EXPECT_FALSE(r.ec) << r.diag.to_string();
    EXPECT_TRUE(r.done_before_finish);
    std::vector<std::string> expected = {"text:Hello",
                                         "text:! Here",
                                         "text:'s a design: ",
                                         "text:caf\xC3\xA9 \xE2\x80\x94 ",
                                         "text:\xF0\x9F\x9A\x80 done.",
                                         "usage:76/24/64",
                                         "finish:stop:stop"};
    EXPECT_EQ(r.events, expected);

    chat_response resp;
    for (auto const& e : r.raw)
        resp.apply(e);
    EXPECT_EQ(resp.text, "Hello! Here's a design: caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x9A\x80 done.");
}

TEST(openai_decoder, truncated_text_stream_is_an_error)
{
    auto bytes = load_transcript("openai_text_usage.sse");
    auto complete_at = end_of_event_containing(bytes, "\"finish_reason\":\"stop\"");
    expect_prefixes_truncated(openai, bytes, complete_at);
    // Missing [DONE] after a clean finish chunk: complete (compatible servers).
    auto r = run_whole(openai, std::string_view(bytes).substr(0, complete_at));
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.events.back(), "finish:stop:stop");
    // Cut inside the usage chunk: truncated.
    auto mid_usage = bytes.find("\"usage\":{") + 5;
    EXPECT_EQ(run_whole(openai, std::string_view(bytes).substr(0, mid_usage)).ec,
              make_error_code(provider_errc::stream_truncated));
}

TEST(openai_decoder, two_parallel_tool_calls_assembled_by_index)
{
    auto bytes = load_transcript("openai_tool_calls.sse");
    auto r = expect_split_invariant(openai, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "tool_delta:0:call_c91S:get_weather:",
        "tool_delta:0:::{\"",
        "tool_delta:0:::city",
        "tool_delta:0:::\":\"",
        "tool_delta:0:::Paris",
        "tool_delta:0:::\"}",
        "tool_delta:1:call_7Hq2:get_time:",
        "tool_delta:1:::{\"tz\"",
        "tool_delta:1::::\"Europe/",
        "tool_delta:1:::Paris\"}",
        "tool_complete:0:call_c91S:get_weather:{\"city\":\"Paris\"}",
        "tool_complete:1:call_7Hq2:get_time:{\"tz\":\"Europe/Paris\"}",
        "usage:120/40/0",
        "finish:tool_calls:tool_calls",
    };
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(openai, bytes, end_of_event_containing(bytes, "\"finish_reason\":\"tool_calls\""));
}

TEST(openai_decoder, ollama_whole_tool_call_in_one_delta_with_comment_line)
{
    auto bytes = load_transcript("ollama_whole_tool_call.sse");
    auto r = expect_split_invariant(openai, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    std::vector<std::string> expected = {
        "tool_delta:0:call_ab12cd:get_weather:{\"city\":\"Paris\"}",
        "tool_complete:0:call_ab12cd:get_weather:{\"city\":\"Paris\"}",
        "usage:33/17/0",
        "finish:tool_calls:tool_calls",
    };
    EXPECT_EQ(r.events, expected);
    expect_prefixes_truncated(openai, bytes, end_of_event_containing(bytes, "\"finish_reason\":\"tool_calls\""));
}

TEST(openai_decoder, whole_calls_reusing_index_zero_are_separate_calls)
{
    std::string s =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"x\\\":1}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    auto r = expect_split_invariant(openai, s);
    ASSERT_FALSE(r.ec);
    std::vector<std::string> expected = {
        "tool_delta:0:a:f:{}",          "tool_complete:0:a:f:{}", "tool_delta:1:b:g:{\"x\":1}",
        "tool_complete:1:b:g:{\"x\":1}", "usage:0/0/0",            "finish:tool_calls:stop",
    };
    EXPECT_EQ(r.events, expected);
}

TEST(openai_decoder, finish_reasons_are_mapped)
{
    for (auto [raw, mapped] : {std::pair{"length", "length"}, std::pair{"content_filter", "content_filter"},
                               std::pair{"stop", "stop"}, std::pair{"weird", "other"}})
    {
        std::string s = std::string("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"") + raw +
                        "\"}]}\n\ndata: [DONE]\n\n";
        auto r = run_whole(openai, s);
        ASSERT_FALSE(r.ec);
        EXPECT_EQ(r.events.back(), std::string("finish:") + mapped + ":" + raw);
    }
}

TEST(openai_decoder, error_data_event_is_classified)
{
    std::string s = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                    "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n";
    auto r = expect_split_invariant(openai, s);
    EXPECT_EQ(r.ec, make_error_code(provider_errc::overloaded));
    EXPECT_EQ(r.diag.provider_type, "server_error");
    EXPECT_EQ(r.diag.provider_message, "The server had an error");
    EXPECT_EQ(r.events, std::vector<std::string>{"text:Hi"});
}

TEST(openai_decoder, event_error_and_openrouter_numeric_codes)
{
    auto r = run_whole(openai, "event: error\ndata: {\"error\":{\"code\":429,\"message\":\"slow down\"}}\n\n");
    EXPECT_EQ(r.ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(r.diag.http_status, 429);

    auto v = run_whole(openai, "data: {\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens\",\"type\":\"BadRequestError\",\"code\":400}\n\n");
    EXPECT_EQ(v.ec, make_error_code(provider_errc::context_length_exceeded));
}

TEST(openai_decoder, invalid_json_is_malformed)
{
    auto r = run_whole(openai, "data: {\"choices\":[\n\n");
    EXPECT_EQ(r.ec, make_error_code(provider_errc::malformed_event));
    EXPECT_FALSE(r.diag.message.empty());
}

TEST(openai_decoder, data_after_done_is_ignored_and_done_is_reported)
{
    auto dec = make_openai_decoder();
    std::vector<stream_event> out;
    diagnostics d;
    EXPECT_FALSE(dec->feed("data: [DONE]\n\n", out, d));
    EXPECT_TRUE(dec->done());
    EXPECT_FALSE(dec->feed("data: not json\n\n", out, d));
    EXPECT_FALSE(dec->finish(out, d));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<finish_event>(out.back()));
}

TEST(openai_decoder, empty_body_is_truncated)
{
    EXPECT_EQ(run_whole(openai, "").ec, make_error_code(provider_errc::stream_truncated));
}

}  // namespace
