#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

std::vector<std::string> names_without_pings(const std::vector<sse_event>& events)
{
    std::vector<std::string> out;
    for (const auto& e : events)
        if (e.event != "ping" && (out.empty() || out.back() != e.event))
            out.push_back(e.event);
    return out;
}

TEST_F(emulator_test, anthropic_stream_has_named_event_sequence)
{
    auto r = anthropic(anthropic_body("claude-emu", true, "You are a documentation writer."));
    ASSERT_EQ(r.status, 200u);
    auto events = parse_sse(r.body);
    std::vector<std::string> expected = {"message_start",       "content_block_start", "content_block_delta",
                                         "content_block_stop", "message_delta",        "message_stop"};
    EXPECT_EQ(names_without_pings(events), expected);
    bool saw_ping = false;
    std::string text;
    for (const auto& e : events)
    {
        auto j = e.json();
        ASSERT_FALSE(j.is_discarded()) << e.data;
        EXPECT_EQ(j["type"], e.event) << "data.type matches the event name";
        saw_ping |= e.event == "ping";
        if (e.event == "content_block_delta")
        {
            EXPECT_EQ(j["delta"]["type"], "text_delta");
            text += j["delta"]["text"].get<std::string>();
        }
    }
    EXPECT_TRUE(saw_ping);
    EXPECT_EQ(text.rfind("[emulated docs via anthropic]", 0), 0u) << text;
    auto start = events[0].json();
    EXPECT_EQ(start["message"]["role"], "assistant");
    EXPECT_TRUE(start["message"]["stop_reason"].is_null());
    EXPECT_GT(start["message"]["usage"]["input_tokens"].get<int>(), 0);
    auto delta = std::find_if(events.begin(), events.end(), [](auto& e) { return e.event == "message_delta"; })->json();
    EXPECT_EQ(delta["delta"]["stop_reason"], "end_turn");
    EXPECT_EQ(delta["usage"]["output_tokens"].get<int>(), static_cast<int>((text.size() + 3) / 4));
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(emulator_test, anthropic_accepts_bearer_auth_any_version_and_beta_query)
{
    raw_request req;
    req.target = "/v1/messages?beta=true";
    req.body = anthropic_body("claude-emu", false).dump();
    req.headers = {{"authorization", "Bearer tok-1234"}, {"anthropic-version", "2099-01-01"}};
    auto r = send(port_, req);
    ASSERT_EQ(r.status, 200u);
    auto j = r.json();
    EXPECT_EQ(j["type"], "message");
    EXPECT_EQ(j["content"][0]["type"], "text");
    EXPECT_EQ(j["stop_reason"], "end_turn");
    EXPECT_FALSE(r.header("request-id").empty());
}

TEST_F(emulator_test, anthropic_stream_tool_use_with_input_json_delta)
{
    auto body = anthropic_body("claude-emu", true, "", "Weather in Paris?");
    body["tools"] = {{{"name", "get_weather"}, {"input_schema", weather_schema()}}};
    auto events = parse_sse(anthropic(body).body);
    std::string partial;
    bool started = false;
    std::string stop;
    for (const auto& e : events)
    {
        auto j = e.json();
        if (e.event == "content_block_start")
        {
            EXPECT_EQ(j["content_block"]["type"], "tool_use");
            EXPECT_EQ(j["content_block"]["name"], "get_weather");
            EXPECT_EQ(j["content_block"]["input"], json::object());
            started = true;
        }
        if (e.event == "content_block_delta")
        {
            EXPECT_EQ(j["delta"]["type"], "input_json_delta");
            partial += j["delta"]["partial_json"].get<std::string>();
        }
        if (e.event == "message_delta")
            stop = j["delta"]["stop_reason"];
    }
    EXPECT_TRUE(started);
    EXPECT_EQ(stop, "tool_use");
    EXPECT_TRUE(json::parse(partial)["city"].is_string());
}

TEST_F(emulator_test, anthropic_tool_result_gets_a_text_answer)
{
    json body = {{"model", "c"},
                 {"max_tokens", 100},
                 {"tools", {{{"name", "get_weather"}, {"input_schema", weather_schema()}}}},
                 {"messages",
                  {{{"role", "user"}, {"content", "Weather?"}},
                   {{"role", "assistant"},
                    {"content", {{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "get_weather"}, {"input", {{"city", "Paris"}}}}}}},
                   {{"role", "user"},
                    {"content", {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "rainy, 12C"}}}}}}}};
    auto j = anthropic(body).json();
    EXPECT_EQ(j["stop_reason"], "end_turn");
    EXPECT_NE(j["content"][0]["text"].get<std::string>().find("rainy, 12C"), std::string::npos);
}

TEST_F(emulator_test, anthropic_json_demanded_in_system_prompt)
{
    auto j = anthropic(anthropic_body("c", false, "Answer only with JSON.")).json();
    auto v = json::parse(j["content"][0]["text"].get<std::string>());
    EXPECT_EQ(v["protocol"], "anthropic");
}

TEST_F(emulator_test, anthropic_schema_in_system_prompt_shapes_the_json_answer)
{
    // What EP's own Anthropic encoder sends for a JSON phase: the schema ends the system prompt.
    const std::string system = "You are a requirements analyst.\n\nRespond with a single JSON value only. "
                               "The JSON must validate against this JSON Schema:\n"
                               R"({"type":"object","required":["summary","requirements"],)"
                               R"("properties":{"summary":{"type":"string"},"requirements":{"type":"array","items":{"type":"string"}}}})";
    auto j = anthropic(anthropic_body("c", false, system)).json();
    auto v = json::parse(j["content"][0]["text"].get<std::string>());
    ASSERT_TRUE(v.is_object()) << v;
    EXPECT_TRUE(v["summary"].is_string()) << v;
    EXPECT_TRUE(v["requirements"].is_array()) << v;
}

TEST_F(emulator_test, anthropic_missing_max_tokens_is_an_anthropic_400)
{
    auto body = anthropic_body("c", false);
    body.erase("max_tokens");
    auto r = anthropic(body);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["type"], "error");
    EXPECT_EQ(r.json()["error"]["type"], "invalid_request_error");
}

}  // namespace
}  // namespace ep::emulator::test
