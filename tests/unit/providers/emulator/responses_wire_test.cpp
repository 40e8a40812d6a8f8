// POST /v1/responses: the Responses API's event sequence, tool calls, structured output,
// reasoning items (and the refusal of a follow-up that drops them), errors and faults.
#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

json request(bool stream, json input = "Design a cache")
{
    return {{"model", "gpt-emu"}, {"stream", stream}, {"instructions", "You are the architect."}, {"input", input}};
}

TEST_F(emulator_test, responses_stream_event_sequence_and_usage)
{
    auto r = responses(request(true));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 8u);
    std::string text;
    int seq = 0;
    for (const auto& e : events)
    {
        auto j = e.json();
        ASSERT_FALSE(j.is_discarded()) << e.data;
        EXPECT_EQ(j["type"], e.event);
        EXPECT_EQ(j["sequence_number"], seq++);
        if (e.event == "response.output_text.delta")
            text += j["delta"].get<std::string>();
    }
    EXPECT_EQ(events.front().event, "response.created");
    EXPECT_EQ(events[2].event, "response.output_item.added");
    EXPECT_EQ(events.back().event, "response.completed");
    EXPECT_EQ(text.rfind("[emulated architect via openai_responses]", 0), 0u) << text;
    auto done = events.back().json()["response"];
    EXPECT_EQ(done["status"], "completed");
    EXPECT_EQ(done["output"][0]["content"][0]["text"], text);
    EXPECT_GT(done["usage"]["input_tokens"].get<int>(), 0);
    EXPECT_EQ(done["usage"]["output_tokens"].get<int>(), static_cast<int>((text.size() + 3) / 4));
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);

    auto whole = responses(request(false)).json();
    EXPECT_EQ(whole["object"], "response");
    EXPECT_EQ(whole["output"][0]["content"][0]["text"], text) << "stream and non-stream agree";
}

TEST_F(emulator_test, responses_function_call_then_its_output)
{
    auto body = request(true);
    body["tools"] = json::array({{{"type", "function"}, {"name", "get_weather"}, {"parameters", weather_schema()}}});
    auto events = parse_sse(responses(body).body);
    std::string args;
    json item;
    for (const auto& e : events)
    {
        if (e.event == "response.function_call_arguments.delta")
            args += e.json()["delta"].get<std::string>();
        if (e.event == "response.output_item.done")
            item = e.json()["item"];
    }
    EXPECT_EQ(item["type"], "function_call");
    EXPECT_EQ(item["name"], "get_weather");
    EXPECT_EQ(item["arguments"], args);
    EXPECT_TRUE(json::parse(args)["city"].is_string());

    body["input"] = json::array({{{"role", "user"}, {"content", "Weather?"}},
                                 {{"type", "function_call"}, {"call_id", item["call_id"]}, {"name", "get_weather"},
                                  {"arguments", args}},
                                 {{"type", "function_call_output"}, {"call_id", item["call_id"]}, {"output", "18C"}}});
    body["stream"] = false;
    auto answer = responses(body).json();
    EXPECT_NE(answer["output"][0]["content"][0]["text"].get<std::string>().find("18C"), std::string::npos);
}

TEST_F(emulator_test, responses_json_schema_output_fits_the_schema)
{
    auto body = request(false);
    body["text"] = {{"format", {{"type", "json_schema"}, {"name", "w"}, {"schema", weather_schema()}, {"strict", false}}}};
    auto text = responses(body).json()["output"][0]["content"][0]["text"].get<std::string>();
    auto value = json::parse(text);
    EXPECT_TRUE(value["city"].is_string());
    EXPECT_TRUE(value["days"].is_number_integer());
}

TEST_F(emulator_test, responses_reasoning_item_tokens_and_round_trip)
{
    auto body = request(false);
    body["reasoning"] = {{"effort", "high"}};
    body["include"] = {"reasoning.encrypted_content"};
    body["tools"] = json::array({{{"type", "function"}, {"name", "get_weather"}, {"parameters", weather_schema()}}});
    auto first = responses(body).json();
    ASSERT_EQ(first["output"][0]["type"], "reasoning");
    auto reasoning = first["output"][0];
    auto call = first["output"][1];
    EXPECT_FALSE(reasoning["encrypted_content"].get<std::string>().empty());
    EXPECT_EQ(first["usage"]["output_tokens_details"]["reasoning_tokens"], 256);

    json follow = {{{"role", "user"}, {"content", "Weather?"}}, reasoning,
                   {{"type", "function_call"}, {"call_id", call["call_id"]}, {"name", "get_weather"},
                    {"arguments", call["arguments"]}},
                   {{"type", "function_call_output"}, {"call_id", call["call_id"]}, {"output", "18C"}}};
    body["input"] = follow;
    EXPECT_EQ(responses(body).status, 200u);

    follow.erase(1);  // the reasoning item dropped: refused, as the real API does
    body["input"] = follow;
    auto refused = responses(body);
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(refused.body.find("required 'reasoning' item"), std::string::npos) << refused.body;
}

TEST_F(emulator_test, responses_faults_errors_and_content_filter)
{
    auto limited = responses(request(true), {{"x-ep-emulator-fault", "429,retry-after=2"}});
    EXPECT_EQ(limited.status, 429u);
    EXPECT_EQ(limited.header("retry-after"), "2");
    EXPECT_EQ(limited.json()["error"]["code"], "rate_limit_exceeded");

    auto overloaded = parse_sse(responses(request(true), {{"x-ep-emulator-fault", "overloaded:3"}}).body);
    EXPECT_EQ(overloaded.back().event, "response.failed");
    EXPECT_EQ(overloaded.back().json()["response"]["error"]["code"], "server_error");

    auto filtered = parse_sse(responses(request(true), {{"x-ep-emulator-fault", "content-filter"}}).body);
    EXPECT_EQ(filtered.back().event, "response.incomplete");
    EXPECT_EQ(filtered.back().json()["response"]["incomplete_details"]["reason"], "content_filter");

    auto bad = responses(json{{"model", "m"}});
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(bad.json()["error"]["type"], "invalid_request_error");
    EXPECT_EQ(emu_->requests().back().protocol, "openai_responses");
}

}  // namespace
}  // namespace ep::emulator::test
