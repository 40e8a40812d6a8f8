#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

TEST_F(emulator_test, gemini_stream_chunks_carry_increments_usage_and_final_finish_reason)
{
    auto r = gemini("gemini-emu", true, gemini_body("You are the QA lead."));
    ASSERT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find("\r\n\r\n"), std::string::npos) << "CRLF-terminated events";
    auto events = parse_sse(r.body);
    ASSERT_GE(events.size(), 2u);
    std::string text;
    for (std::size_t i = 0; i < events.size(); ++i)
    {
        auto j = events[i].json();
        ASSERT_FALSE(j.is_discarded());
        EXPECT_TRUE(events[i].event.empty());
        EXPECT_TRUE(j.contains("usageMetadata"));
        const auto& cand = j["candidates"][0];
        EXPECT_EQ(cand["content"]["role"], "model");
        text += cand["content"]["parts"][0]["text"].get<std::string>();
        EXPECT_EQ(cand.contains("finishReason"), i + 1 == events.size());
    }
    EXPECT_EQ(events.back().json()["candidates"][0]["finishReason"], "STOP");
    EXPECT_EQ(text.rfind("[emulated qa via gemini]", 0), 0u) << text;
    auto usage = events.back().json()["usageMetadata"];
    EXPECT_EQ(usage["candidatesTokenCount"].get<int>(), static_cast<int>((text.size() + 3) / 4));
    EXPECT_EQ(usage["totalTokenCount"].get<int>(),
              usage["promptTokenCount"].get<int>() + usage["candidatesTokenCount"].get<int>());
}

TEST_F(emulator_test, gemini_non_stream_and_key_query_parameter_redacted)
{
    raw_request req;
    req.target = "/v1beta/models/gemini-emu:generateContent?key=g-query-secret";
    req.body = gemini_body().dump();
    auto r = send(port_, req);
    ASSERT_EQ(r.status, 200u);
    auto j = r.json();
    EXPECT_EQ(j["candidates"][0]["finishReason"], "STOP");
    EXPECT_TRUE(j["candidates"][0]["content"]["parts"][0]["text"].is_string());
    auto log = emu_->requests();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].model, "gemini-emu");
    EXPECT_EQ(log[0].path.find("g-query-secret"), std::string::npos);
    EXPECT_NE(log[0].path.find("key=[redacted]"), std::string::npos);
}

TEST_F(emulator_test, gemini_function_call_arrives_whole_with_stop)
{
    auto body = gemini_body("", "Weather in Paris?");
    body["tools"] = {{{"functionDeclarations", {{{"name", "get_weather"}, {"parameters", {{"type", "OBJECT"}, {"properties", {{"city", {{"type", "STRING"}}}}}, {"required", {"city"}}}}}}}}};
    auto events = parse_sse(gemini("g", true, body).body);
    ASSERT_EQ(events.size(), 1u);
    auto cand = events[0].json()["candidates"][0];
    EXPECT_EQ(cand["finishReason"], "STOP");
    EXPECT_EQ(cand["content"]["parts"][0]["functionCall"]["name"], "get_weather");
    EXPECT_TRUE(cand["content"]["parts"][0]["functionCall"]["args"]["city"].is_string());
}

TEST_F(emulator_test, gemini_function_response_gets_text)
{
    json body = {{"contents",
                  {{{"role", "user"}, {"parts", {{{"text", "Weather?"}}}}},
                   {{"role", "model"}, {"parts", {{{"functionCall", {{"name", "w"}, {"args", json::object()}}}}}}},
                   {{"role", "user"}, {"parts", {{{"functionResponse", {{"name", "w"}, {"response", {{"output", "hail"}}}}}}}}}}},
                 {"tools", {{{"functionDeclarations", {{{"name", "w"}}}}}}}};
    auto j = gemini("g", false, body).json();
    EXPECT_NE(j["candidates"][0]["content"]["parts"][0]["text"].get<std::string>().find("hail"), std::string::npos);
}

TEST_F(emulator_test, gemini_json_mime_type_gets_json)
{
    auto body = gemini_body();
    body["generationConfig"] = {{"responseMimeType", "application/json"},
                                {"responseSchema", {{"type", "OBJECT"}, {"properties", {{"n", {{"type", "INTEGER"}}}}}}}};
    auto j = gemini("g", false, body).json();
    auto v = json::parse(j["candidates"][0]["content"]["parts"][0]["text"].get<std::string>());
    EXPECT_TRUE(v["n"].is_number_integer());
}

TEST_F(emulator_test, gemini_stream_without_alt_sse_is_a_json_array)
{
    raw_request req;
    req.target = "/v1beta/models/g:streamGenerateContent";
    req.body = gemini_body().dump();
    auto r = send(port_, req);
    ASSERT_EQ(r.status, 200u);
    auto j = r.json();
    ASSERT_TRUE(j.is_array());
    EXPECT_GE(j.size(), 2u);
    EXPECT_EQ(j.back()["candidates"][0]["finishReason"], "STOP");
}

}  // namespace
}  // namespace ep::emulator::test
