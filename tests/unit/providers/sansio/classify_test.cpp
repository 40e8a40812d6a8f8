#include "sansio_private.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace std::chrono_literals;

struct row
{
    const char* protocol;
    int status;
    const char* body;
    provider_errc expected;
    const char* provider_type;
};

const error_mapping& mapping_of(std::string_view protocol)
{
    if (protocol == "anthropic")
        return anthropic_errors();
    if (protocol == "gemini")
        return gemini_errors();
    return openai_errors();
}

class classify_table : public ::testing::TestWithParam<row>
{
};

TEST_P(classify_table, maps_status_and_body)
{
    auto const& r = GetParam();
    diagnostics d;
    auto ec = classify_http_error(mapping_of(r.protocol), r.status, {}, r.body, d);
    EXPECT_EQ(ec, make_error_code(r.expected)) << r.protocol << " " << r.status << " " << r.body;
    EXPECT_EQ(d.http_status, r.status);
    EXPECT_EQ(d.provider_type, r.provider_type);
    EXPECT_FALSE(d.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    all, classify_table,
    ::testing::Values(
        row{"openai", 401, R"({"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}})",
            provider_errc::auth_failed, "invalid_request_error/invalid_api_key"},
        row{"anthropic", 403, R"({"type":"error","error":{"type":"permission_error","message":"no"}})",
            provider_errc::auth_failed, "permission_error"},
        row{"openai", 400, R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}})",
            provider_errc::invalid_request, "invalid_request_error"},
        row{"openai", 404, R"({"error":{"message":"The model does not exist","type":"invalid_request_error"}})",
            provider_errc::invalid_request, "invalid_request_error"},
        row{"openai", 400,
            R"({"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}})",
            provider_errc::context_length_exceeded, "invalid_request_error/context_length_exceeded"},
        row{"anthropic", 400, R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 250000 tokens > 200000 maximum"}})",
            provider_errc::context_length_exceeded, "invalid_request_error"},
        row{"gemini", 400, R"({"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})",
            provider_errc::context_length_exceeded, "INVALID_ARGUMENT"},
        row{"gemini", 400, R"([{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}])",
            provider_errc::auth_failed, "INVALID_ARGUMENT"},
        row{"anthropic", 413, "<html><head><title>413 Request Entity Too Large</title></head><body>cloudflare</body></html>",
            provider_errc::invalid_request, ""},
        row{"openai", 422, "{}", provider_errc::invalid_request, ""},
        row{"openai", 408, "", provider_errc::http_status, ""},
        row{"anthropic", 409, R"({"type":"error","error":{"type":"conflict_error","message":"lock"}})",
            provider_errc::http_status, "conflict_error"},
        row{"openai", 429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})",
            provider_errc::rate_limited, "requests/rate_limit_exceeded"},
        row{"openai", 429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
            provider_errc::auth_failed, "insufficient_quota"},
        row{"gemini", 429, R"({"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}})",
            provider_errc::rate_limited, "RESOURCE_EXHAUSTED"},
        row{"openai", 500, R"({"error":{"message":"server error","type":"server_error"}})", provider_errc::overloaded, "server_error"},
        row{"openai", 502, "Bad Gateway", provider_errc::overloaded, ""},
        row{"gemini", 503, R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})", provider_errc::overloaded, "UNAVAILABLE"},
        row{"openai", 504, "", provider_errc::overloaded, ""},
        row{"anthropic", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
            provider_errc::overloaded, "overloaded_error"},
        row{"openai", 418, "teapot", provider_errc::http_status, ""},
        row{"openai", 402, R"({"error":{"code":402,"message":"Insufficient credits"}})", provider_errc::auth_failed, ""},
        row{"openai", 400, R"({"error":"model 'x' not found"})", provider_errc::invalid_request, ""}));

TEST(classify_http_error, retryability_follows_the_code)
{
    diagnostics d;
    EXPECT_TRUE(is_retryable(classify_http_error(openai_errors(), 429, {}, "", d)));
    EXPECT_TRUE(is_retryable(classify_http_error(openai_errors(), 408, {}, "", d)));
    EXPECT_TRUE(is_retryable(classify_http_error(anthropic_errors(), 529, {}, "", d)));
    EXPECT_FALSE(is_retryable(classify_http_error(openai_errors(), 400, {}, "", d)));
    EXPECT_FALSE(is_retryable(classify_http_error(openai_errors(), 401, {}, "", d)));
    EXPECT_FALSE(is_retryable(classify_http_error(
        openai_errors(), 429, {}, R"({"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"q"}})", d)));
    EXPECT_NE(d.message.find("quota"), std::string::npos);
}

TEST(classify_http_error, html_body_is_summarised_and_long_messages_truncated)
{
    diagnostics d;
    classify_http_error(openai_errors(), 502, {}, "<html><body><h1>502 Bad   Gateway</h1>\n<p>nginx</p></body></html>", d);
    EXPECT_EQ(d.provider_message, "502 Bad Gateway nginx");

    std::string long_msg(5000, 'a');
    classify_http_error(openai_errors(), 400, {}, R"({"error":{"message":")" + long_msg + R"("}})", d);
    EXPECT_LE(d.provider_message.size(), max_provider_message + 3);
    // Truncation never splits a UTF-8 character.
    std::string accents;
    for (int i = 0; i < 800; ++i)
        accents += "\xC3\xA9";
    auto cut = truncate_utf8(accents, 1001);
    EXPECT_EQ(cut.size(), 1000 + std::string("…").size());
}

TEST(retry_after, header_forms)
{
    auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 1} + 12h;
    auto parse = [&](ep::providers::http_headers h) { return parse_retry_after(h, now); };
    EXPECT_EQ(parse({{"Retry-After", "7"}}), 7000ms);
    EXPECT_EQ(parse({{"retry-after", "1.5"}}), 1500ms);
    EXPECT_EQ(parse({{"retry-after-ms", "250"}, {"retry-after", "9"}}), 250ms);  // ms wins
    EXPECT_EQ(parse({{"Retry-After", "Sun, 01 Nov 2026 12:00:30 GMT"}}), 30000ms);
    EXPECT_EQ(parse({{"Retry-After", "Sunday, 01-Nov-26 12:01:00 GMT"}}), 60000ms);
    EXPECT_EQ(parse({{"Retry-After", "Sun Nov  1 12:00:05 2026"}}), 5000ms);
    EXPECT_EQ(parse({{"Retry-After", "Sun, 01 Nov 2026 11:00:00 GMT"}}), 0ms);  // in the past
    EXPECT_EQ(parse({{"Retry-After", "soon"}}), std::nullopt);
    EXPECT_EQ(parse({{"Retry-After", "-3"}}), std::nullopt);
    EXPECT_EQ(parse({}), std::nullopt);
}

// Found by fuzz_error_classify: a date far from now overflowed system_clock's nanoseconds
// (undefined behaviour); years outside 1970–2200 are no Retry-After a server means.
TEST(retry_after, dates_outside_1970_2200_are_ignored)
{
    auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 1} + 12h;
    EXPECT_EQ(parse_retry_after({{"Retry-After", "Wed, 21 Oct 1013 07:28:00 GMT"}}, now), std::nullopt);
    EXPECT_EQ(parse_retry_after({{"Retry-After", "Wed, 21 Oct 9999 07:28:00 GMT"}}, now), std::nullopt);
    EXPECT_EQ(parse_retry_after({{"Retry-After", "Sun, 01 Nov 2026 -1:00:00 GMT"}}, now), std::nullopt);
    EXPECT_EQ(parse_retry_after({{"Retry-After", "Sun, 01 Nov 2200 12:00:00 GMT"}}, now).has_value(), true);
}

// Found by fuzz_decoder_anthropic: a usage count of 1.9e55 was converted to int64 (undefined
// behaviour). Numbers outside int64 read as absent, usage counts outside 0..10^15 too.
TEST(json_util, out_of_range_numbers_read_as_absent)
{
    const auto j = json::parse(R"({"big": 1.9e55, "neg": -1e300, "u": 18446744073709551615, "f": 12.7,
                                  "i": -5, "count": 1200, "huge_count": 2000000000000000})");
    EXPECT_EQ(int_member(j, "big"), std::nullopt);
    EXPECT_EQ(int_member(j, "neg"), std::nullopt);
    EXPECT_EQ(int_member(j, "u"), std::nullopt);
    EXPECT_EQ(int_member(j, "f"), 12);
    EXPECT_EQ(int_member(j, "i"), -5);
    EXPECT_EQ(count_member(j, "count"), 1200);
    EXPECT_EQ(count_member(j, "i"), std::nullopt);
    EXPECT_EQ(count_member(j, "huge_count"), std::nullopt);
}

TEST(retry_after, classify_reads_headers_should_retry_and_gemini_retry_delay)
{
    diagnostics d;
    auto ec = classify_http_error(anthropic_errors(), 529, {{"retry-after", "3"}, {"x-should-retry", "true"}},
                                  R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", d);
    EXPECT_EQ(ec, make_error_code(provider_errc::overloaded));
    EXPECT_EQ(d.retry_after, 3000ms);
    EXPECT_EQ(d.should_retry, true);

    diagnostics g;
    classify_http_error(gemini_errors(), 429, {},
                        R"([{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[
                              {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},
                              {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"19s"}]}}])",
                        g);
    EXPECT_EQ(g.retry_after, 19000ms);
    EXPECT_EQ(g.should_retry, std::nullopt);

    diagnostics x;
    classify_http_error(openai_errors(), 500, {{"X-Should-Retry", "false"}}, "", x);
    EXPECT_EQ(x.should_retry, false);
}

TEST(retry_after, proto_durations)
{
    EXPECT_EQ(parse_proto_duration("19s"), 19000ms);
    EXPECT_EQ(parse_proto_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_proto_duration("0.250s"), 250ms);
    EXPECT_EQ(parse_proto_duration("19"), std::nullopt);
    EXPECT_EQ(parse_proto_duration("s"), std::nullopt);
}

}  // namespace
