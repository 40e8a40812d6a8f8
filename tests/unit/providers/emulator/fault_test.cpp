#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(fault_spec, parses_and_round_trips)
{
    auto s = parse_fault_spec("429,retry-after=2,retry-after-ms=1500,times=3");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, fault_kind::http_status);
    EXPECT_EQ(s->status, 429u);
    EXPECT_EQ(s->retry_after_s, 2);
    EXPECT_EQ(s->retry_after_ms, 1500);
    EXPECT_EQ(s->times, 3);
    auto again = parse_fault_spec(s->to_string());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->to_string(), s->to_string());

    EXPECT_EQ(parse_fault_spec("cut:5")->after_events, 5);
    EXPECT_EQ(parse_fault_spec("slow:120")->delay_ms, 120);
    EXPECT_EQ(parse_fault_spec("no-terminal")->kind, fault_kind::missing_terminal);
    EXPECT_EQ(parse_fault_spec("overloaded")->kind, fault_kind::overloaded);
    auto late = parse_fault_spec("first-token:150");
    ASSERT_TRUE(late);
    EXPECT_EQ(late->kind, fault_kind::late_first_content);
    EXPECT_EQ(late->delay_ms, 150);
    EXPECT_EQ(late->to_string(), "first-token:150");
    auto stall = parse_fault_spec("stall:20,for=30000");
    ASSERT_TRUE(stall);
    EXPECT_EQ(stall->after_events, 20);
    EXPECT_EQ(stall->stall_ms, 30000);
    EXPECT_EQ(stall->to_string(), "stall:20,for=30000");
}

TEST(fault_spec, rejects_invalid_specs_with_a_reason)
{
    for (const char* bad : {"", "bogus", "200", "700", "cut:x", "reset:3", "429,foo=1", "cut:2,retry-after=1", "429,times", "cut:2,for=100"})
    {
        std::string error;
        EXPECT_FALSE(parse_fault_spec(bad, &error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

TEST_F(emulator_test, http_status_fault_by_model_in_each_protocol_shape)
{
    auto o = openai(openai_body("emu-fault:429,retry-after=7,retry-after-ms=7000", false));
    EXPECT_EQ(o.status, 429u);
    EXPECT_EQ(o.header("retry-after"), "7");
    EXPECT_EQ(o.header("retry-after-ms"), "7000");
    EXPECT_EQ(o.json()["error"]["code"], "rate_limit_exceeded");

    auto a = anthropic(anthropic_body("emu-fault:529", true));
    EXPECT_EQ(a.status, 529u);
    EXPECT_EQ(a.header("content-type"), "application/json") << "errors are JSON even for stream:true";
    EXPECT_EQ(a.json()["type"], "error");
    EXPECT_EQ(a.json()["error"]["type"], "overloaded_error");
    EXPECT_EQ(a.header("x-should-retry"), "true");
    EXPECT_EQ(a.header("retry-after"), "");

    auto g = gemini("emu-fault:429,retry-after=19", true, gemini_body());
    EXPECT_EQ(g.status, 429u);
    EXPECT_EQ(g.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    EXPECT_EQ(g.json()["error"]["code"], 429);
    EXPECT_EQ(g.json()["error"]["details"][0]["retryDelay"], "19s");
}

TEST_F(emulator_test, header_fault_wins_over_model_fault)
{
    auto r = openai(openai_body("emu-fault:500", false), {{"x-ep-emulator-fault", "503"}});
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.json()["error"]["type"], "server_error");
}

TEST_F(emulator_test, invalid_fault_spec_is_a_400_with_the_reason)
{
    auto r = openai(openai_body("emu-fault:nonsense", false));
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("nonsense"), std::string::npos);
}

TEST_F(emulator_test, reset_before_headers)
{
    auto r = openai(openai_body("emu-fault:reset", true));
    EXPECT_FALSE(r.got_header);
    EXPECT_TRUE(r.ec);
}

TEST_F(emulator_test, no_response_keeps_the_socket_silent)
{
    raw_request req;
    req.target = "/v1/chat/completions";
    req.body = openai_body("m", true).dump();
    req.headers = {{"x-ep-emulator-fault", "no-response"}};
    req.timeout = 300ms;
    auto r = send(port_, req);
    EXPECT_FALSE(r.got_header);
    EXPECT_EQ(r.ec, boost::beast::error::timeout);
    EXPECT_EQ(emu_->requests().back().fault, "no-response");
}

TEST_F(emulator_test, slow_first_token_delays_the_headers)
{
    auto r = openai(openai_body("emu-fault:slow:200", true));
    EXPECT_EQ(r.status, 200u);
    EXPECT_GE(r.header_after, 190ms);
    EXPECT_TRUE(r.complete);
}

TEST_F(emulator_test, cut_closes_mid_stream_without_terminal)
{
    auto r = openai(openai_body("emu-fault:cut:3", true));
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.ec);
    auto events = parse_sse(r.body);
    EXPECT_EQ(events.size(), 3u);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(emulator_test, cut_beyond_the_end_still_drops_the_terminal)
{
    auto r = anthropic(anthropic_body("emu-fault:cut:100000", true));
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.body.find("message_stop"), std::string::npos);
    EXPECT_NE(r.body.find("message_delta"), std::string::npos);
}

TEST_F(emulator_test, stall_stops_sending_but_keeps_the_socket_open)
{
    raw_request req;
    req.target = "/v1/messages";
    req.body = anthropic_body("m", true).dump();
    req.headers = {{"x-ep-emulator-fault", "stall:2"}};
    req.timeout = 400ms;
    auto r = send(port_, req);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.ec, boost::beast::error::timeout);
    EXPECT_EQ(parse_sse(r.body).size(), 2u);
}

// failoverbench S07: the headers (and the events that carry no content) come at once, the
// first content only after the delay.
TEST_F(emulator_test, first_token_fault_delays_the_first_content_not_the_headers)
{
    auto r = openai(openai_body("emu-fault:first-token:800", true));
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(r.complete);
    EXPECT_GE(r.elapsed, 790ms);
    EXPECT_LT(r.header_after + 300ms, r.elapsed) << "headers long before the content";
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[0].json()["choices"][0]["delta"]["content"], "") << "the role chunk is not content";
}

// failoverbench S09: K events, silence for a while, then the connection closes (a cut stream).
TEST_F(emulator_test, stall_for_a_while_then_close)
{
    raw_request req;
    req.target = "/v1/messages";
    req.body = anthropic_body("m", true).dump();
    req.headers = {{"x-ep-emulator-fault", "stall:4,for=300"}};
    req.timeout = 5s;
    auto r = send(port_, req);
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.ec, boost::beast::error::timeout) << "closed by the server, not waited out";
    EXPECT_FALSE(r.complete);
    EXPECT_GE(r.elapsed, 290ms);
    EXPECT_EQ(parse_sse(r.body).size(), 4u);
    EXPECT_EQ(r.body.find("message_stop"), std::string::npos);
}

TEST_F(emulator_test, malformed_event_is_unparsable)
{
    auto r = gemini("emu-fault:malformed:1", true, gemini_body());
    EXPECT_TRUE(r.complete);
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_FALSE(events[0].json().is_discarded());
    EXPECT_TRUE(events[1].json().is_discarded()) << events[1].data;
    EXPECT_FALSE(events[2].json().is_discarded());
}

TEST_F(emulator_test, missing_terminal_per_protocol)
{
    auto o = openai(openai_body("emu-fault:no-terminal", true));
    EXPECT_TRUE(o.complete) << "the HTTP body ends cleanly";
    EXPECT_EQ(o.body.find("[DONE]"), std::string::npos);
    EXPECT_NE(o.body.find("\"finish_reason\":\"stop\""), std::string::npos);

    auto a = anthropic(anthropic_body("emu-fault:no-terminal", true));
    EXPECT_TRUE(a.complete);
    EXPECT_EQ(a.body.find("message_stop"), std::string::npos);

    auto g = gemini("emu-fault:no-terminal", true, gemini_body());
    EXPECT_TRUE(g.complete);
    EXPECT_EQ(g.body.find("finishReason"), std::string::npos);
}

TEST_F(emulator_test, context_length_exceeded_per_protocol)
{
    auto o = openai(openai_body("emu-fault:context-length", true));
    EXPECT_EQ(o.status, 400u);
    EXPECT_EQ(o.json()["error"]["code"], "context_length_exceeded");
    auto a = anthropic(anthropic_body("emu-fault:context-length", true));
    EXPECT_EQ(a.status, 400u);
    EXPECT_NE(a.json()["error"]["message"].get<std::string>().find("prompt is too long"), std::string::npos);
    auto g = gemini("emu-fault:context-length", false, gemini_body());
    EXPECT_EQ(g.status, 400u);
    EXPECT_EQ(g.json()["error"]["status"], "INVALID_ARGUMENT");
    EXPECT_NE(g.json()["error"]["message"].get<std::string>().find("exceeds the maximum number of tokens"),
              std::string::npos);
}

TEST_F(emulator_test, content_filter_per_protocol)
{
    auto o = openai(openai_body("emu-fault:content-filter", true));
    EXPECT_NE(o.body.find("\"finish_reason\":\"content_filter\""), std::string::npos);
    EXPECT_NE(o.body.find("[DONE]"), std::string::npos);
    auto a = anthropic(anthropic_body("emu-fault:content-filter", false));
    EXPECT_EQ(a.json()["stop_reason"], "refusal");
    auto g = gemini("emu-fault:content-filter", true, gemini_body());
    auto events = parse_sse(g.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().json()["candidates"][0]["finishReason"], "SAFETY");
}

TEST_F(emulator_test, overloaded_in_stream_error)
{
    auto a = anthropic(anthropic_body("emu-fault:overloaded:2", true));
    EXPECT_EQ(a.status, 200u);
    auto events = parse_sse(a.body);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2].event, "error");
    EXPECT_EQ(events[2].json()["error"]["type"], "overloaded_error");
    EXPECT_EQ(a.body.find("message_stop"), std::string::npos);

    auto o = openai(openai_body("emu-fault:overloaded:1", true));
    auto oe = parse_sse(o.body);
    ASSERT_EQ(oe.size(), 2u);
    EXPECT_TRUE(oe[1].json().contains("error"));
}

TEST_F(emulator_test, fail_first_n_then_succeed_by_model)
{
    const std::string model = "emu-fault:503,times=2";
    EXPECT_EQ(openai(openai_body(model, false)).status, 503u);
    EXPECT_EQ(openai(openai_body(model, false)).status, 503u);
    EXPECT_EQ(openai(openai_body(model, false)).status, 200u);
    auto stats = emu_->stats();
    EXPECT_EQ(stats.by_status["503"], 2u);
    EXPECT_EQ(stats.by_status["200"], 1u);
    EXPECT_EQ(stats.by_fault["http_status"], 2u);
    emu_->reset();
    EXPECT_EQ(openai(openai_body(model, false)).status, 503u) << "reset forgets the counts";
}

TEST_F(emulator_test, programmatic_rule_scoped_to_protocol_and_persona)
{
    fault_rule rule;
    rule.fault = *parse_fault_spec("500,times=1");
    rule.protocol = "anthropic";
    rule.persona = "reviewer";
    emu_->add_fault(rule);
    EXPECT_EQ(openai(openai_body("m", false, "You are a reviewer.")).status, 200u) << "other protocol";
    EXPECT_EQ(anthropic(anthropic_body("m", false, "You are an architect.")).status, 200u) << "other persona";
    EXPECT_EQ(anthropic(anthropic_body("m", false, "You are a reviewer.")).status, 500u);
    EXPECT_EQ(anthropic(anthropic_body("m", false, "You are a reviewer.")).status, 200u) << "times=1 used up";
}

TEST_F(emulator_test, non_stream_cut_truncates_the_body)
{
    auto r = openai(openai_body("emu-fault:cut", false));
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.json().is_discarded());
}

}  // namespace
}  // namespace ep::emulator::test
