#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

TEST_F(emulator_test, openai_stream_has_real_chunk_sequence)
{
    auto body = openai_body("gpt-emu", true, "You are the software architect.");
    body["stream_options"] = {{"include_usage", true}};
    auto r = openai(body);
    ASSERT_FALSE(r.ec) << r.ec.message();
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 5u);
    EXPECT_EQ(events.back().data, "[DONE]");
    for (const auto& e : events)
        EXPECT_TRUE(e.event.empty()) << "OpenAI sends data-only events";

    auto first = events[0].json();
    EXPECT_EQ(first["object"], "chat.completion.chunk");
    EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
    std::string id = first["id"];
    std::string text;
    std::size_t finish_index = 0;
    for (std::size_t i = 0; i + 1 < events.size(); ++i)
    {
        auto j = events[i].json();
        ASSERT_FALSE(j.is_discarded()) << events[i].data;
        EXPECT_EQ(j["id"], id);
        EXPECT_EQ(j["model"], "gpt-emu");
        EXPECT_TRUE(j.contains("created"));
        if (j["choices"].empty())
            continue;
        const auto& c = j["choices"][0];
        if (c["delta"].contains("content") && c["delta"]["content"].is_string())
            text += c["delta"]["content"].get<std::string>();
        if (!c["finish_reason"].is_null())
        {
            EXPECT_EQ(c["finish_reason"], "stop");
            EXPECT_EQ(c["delta"], json::object());
            finish_index = i;
        }
    }
    EXPECT_EQ(text.rfind("[emulated architect via openai]", 0), 0u) << text;
    EXPECT_NE(text.find("## Components"), std::string::npos);
    // The usage chunk comes after the finish chunk, with choices: [].
    auto usage = events[events.size() - 2].json();
    EXPECT_EQ(finish_index, events.size() - 3);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["completion_tokens"].get<int>(), static_cast<int>((text.size() + 3) / 4));
    EXPECT_EQ(usage["usage"]["total_tokens"].get<int>(),
              usage["usage"]["prompt_tokens"].get<int>() + usage["usage"]["completion_tokens"].get<int>());
}

TEST_F(emulator_test, openai_stream_without_include_usage_has_no_usage_chunk)
{
    auto r = openai(openai_body("gpt-emu", true));
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 3u);
    for (std::size_t i = 0; i + 1 < events.size(); ++i)
    {
        EXPECT_FALSE(events[i].json()["choices"].empty());
        EXPECT_TRUE(events[i].json()["usage"].is_null());
    }
}

TEST_F(emulator_test, openai_non_stream_matches_stream_text)
{
    auto whole = openai(openai_body("gpt-emu", false, "You are a reviewer.", "Review this diff"));
    ASSERT_EQ(whole.status, 200u);
    auto j = whole.json();
    EXPECT_EQ(j["object"], "chat.completion");
    std::string text = j["choices"][0]["message"]["content"];
    EXPECT_EQ(text.rfind("[emulated reviewer via openai]", 0), 0u);
    EXPECT_NE(text.find("Verdict"), std::string::npos);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");

    auto streamed = openai(openai_body("gpt-emu", true, "You are a reviewer.", "Review this diff"));
    std::string joined;
    for (const auto& e : parse_sse(streamed.body))
    {
        auto c = e.json();
        if (!c.is_discarded() && !c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
            joined += c["choices"][0]["delta"].value("content", "");
    }
    EXPECT_EQ(joined, text);
}

TEST_F(emulator_test, openai_answers_are_deterministic_and_depend_on_the_question)
{
    auto a = openai(openai_body("m", false, "", "question one")).json()["choices"][0]["message"]["content"];
    auto b = openai(openai_body("m", false, "", "question one")).json()["choices"][0]["message"]["content"];
    auto c = openai(openai_body("m", false, "", "question two")).json()["choices"][0]["message"]["content"];
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST_F(emulator_test, openai_stream_tool_call_fragments_by_index)
{
    auto body = openai_body("gpt-emu", true, "", "Weather in Paris?");
    body["tools"] = {{{"type", "function"},
                      {"function", {{"name", "get_weather"}, {"parameters", weather_schema()}}}}};
    auto events = parse_sse(openai(body).body);
    ASSERT_GE(events.size(), 4u);
    auto first = events[0].json()["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_EQ(first["index"], 0);
    EXPECT_EQ(first["type"], "function");
    EXPECT_EQ(first["function"]["name"], "get_weather");
    EXPECT_EQ(first["function"]["arguments"], "");
    EXPECT_EQ(first["id"].get<std::string>().rfind("call_", 0), 0u);
    std::string args;
    int fragments = 0;
    std::string finish;
    for (std::size_t i = 1; i + 1 < events.size(); ++i)
    {
        auto c = events[i].json()["choices"][0];
        if (c["delta"].contains("tool_calls"))
        {
            EXPECT_EQ(c["delta"]["tool_calls"][0]["index"], 0);
            EXPECT_FALSE(c["delta"]["tool_calls"][0].contains("id"));
            args += c["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
            ++fragments;
        }
        if (!c["finish_reason"].is_null())
            finish = c["finish_reason"];
    }
    EXPECT_GT(fragments, 1);
    EXPECT_EQ(finish, "tool_calls");
    auto parsed = json::parse(args);
    EXPECT_TRUE(parsed["city"].is_string());
    EXPECT_TRUE(parsed["days"].is_number_integer());
}

TEST_F(emulator_test, openai_after_tool_result_answers_in_text)
{
    json body = {{"model", "m"},
                 {"tools", {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", weather_schema()}}}}}},
                 {"messages",
                  {{{"role", "user"}, {"content", "Weather?"}},
                   {{"role", "assistant"},
                    {"content", nullptr},
                    {"tool_calls",
                     {{{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", "{}"}}}}}}},
                   {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "18C and sunny"}}}}};
    auto j = openai(body).json();
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_NE(j["choices"][0]["message"]["content"].get<std::string>().find("18C and sunny"), std::string::npos);
}

TEST_F(emulator_test, openai_tool_choice_none_answers_in_text)
{
    auto body = openai_body("m", false);
    body["tools"] = {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", weather_schema()}}}}};
    body["tool_choice"] = "none";
    auto j = openai(body).json();
    EXPECT_FALSE(j["choices"][0]["message"].contains("tool_calls"));
    EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
}

TEST_F(emulator_test, openai_json_schema_output_fits_the_schema)
{
    auto body = openai_body("m", false);
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", "x"},
          {"schema",
           {{"type", "object"},
            {"properties",
             {{"title", {{"type", "string"}}},
              {"score", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
              {"ok", {{"type", "boolean"}}},
              {"level", {{"enum", {"low", "high"}}}},
              {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 2}}}}},
            {"required", {"title", "score", "ok", "level", "tags"}}}}}}};
    auto content = openai(body).json()["choices"][0]["message"]["content"].get<std::string>();
    auto v = json::parse(content);
    EXPECT_TRUE(v["title"].is_string());
    EXPECT_GE(v["score"].get<double>(), 0.0);
    EXPECT_LE(v["score"].get<double>(), 1.0);
    EXPECT_EQ(v["ok"], true);
    EXPECT_EQ(v["level"], "low");
    EXPECT_EQ(v["tags"].size(), 2u);
}

TEST_F(emulator_test, array_items_are_numbered_so_a_planners_tasks_differ)
{
    // A planner's JSON task list fans out over distinct tasks; constrained strings stay valid.
    auto body = openai_body("m", false);
    json task = {{"type", "object"},
                 {"properties",
                  {{"title", {{"type", "string"}}}, {"size", {{"enum", {"small", "large"}}}}}},
                 {"required", {"title", "size"}}};
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", "plan"},
          {"schema",
           {{"type", "object"},
            {"properties", {{"tasks", {{"type", "array"}, {"items", task}, {"minItems", 3}}}}},
            {"required", {"tasks"}}}}}}};
    auto v = json::parse(openai(body).json()["choices"][0]["message"]["content"].get<std::string>());
    ASSERT_EQ(v["tasks"].size(), 3u);
    EXPECT_EQ(v["tasks"][0]["title"], "emulated title 1");
    EXPECT_EQ(v["tasks"][2]["title"], "emulated title 3");
    EXPECT_EQ(v["tasks"][1]["size"], "small") << "an enum value is never suffixed";
}

TEST_F(emulator_test, openai_json_object_mode_returns_an_object)
{
    auto body = openai_body("m", false);
    body["response_format"] = {{"type", "json_object"}};
    auto v = json::parse(openai(body).json()["choices"][0]["message"]["content"].get<std::string>());
    EXPECT_EQ(v["emulated"], true);
    EXPECT_EQ(v["protocol"], "openai");
}

TEST_F(emulator_test, openai_bad_request_uses_openai_error_shape)
{
    raw_request req;
    req.target = "/v1/chat/completions";
    req.body = "{not json";
    auto r = send(port_, req);
    EXPECT_EQ(r.status, 400u);
    auto j = r.json();
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(j["error"].contains("code"));
    EXPECT_TRUE(j["error"].contains("param"));
}

}  // namespace
}  // namespace ep::emulator::test
