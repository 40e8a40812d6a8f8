// The OpenAI-compatible gateway over real HTTP with the emulator as upstream: persona/NAME and
// PROVIDER/MODEL, streaming with usage, tools, JSON mode, x-ep-provider/x-ep-model, errors in
// OpenAI's shape, a retried upstream failure that the client never sees, and a stream cut after
// output that ends with an error event and no [DONE].
#include "server_fixture.hpp"

#include <ep/emulator/faults.hpp>

namespace ep::server::test {
namespace {

server_harness::options upstream()
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    return o;
}

json user(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

// The SSE body of a streamed completion: each data payload ("[DONE]" kept as a string).
std::vector<json> data_lines(const std::string& body)
{
    std::vector<json> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos)
    {
        auto end = body.find("\n\n", pos);
        auto payload = body.substr(pos + 6, end - pos - 6);
        out.push_back(payload == "[DONE]" ? json("[DONE]") : json::parse(payload, nullptr, false));
        pos = end;
    }
    return out;
}

TEST(gateway, a_persona_call_is_routed_and_names_who_answered)
{
    server_harness h(upstream());
    auto r = post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}, {"messages", user("Design a queue")}});
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = r.body_json();
    EXPECT_EQ(j["object"], "chat.completion");
    const auto provider = r.header("x-ep-provider");
    const auto model = r.header("x-ep-model");
    EXPECT_FALSE(provider.empty());
    EXPECT_EQ(j["model"], provider + "/" + model);
    const auto text = j["choices"][0]["message"]["content"].get<std::string>();
    EXPECT_NE(text.find("[emulated architect"), std::string::npos) << "the persona's system prompt went upstream: " << text;
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
              j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());

    // x-ep-mix D (OpenAI only) routes the same persona to OpenAI.
    auto d = post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}, {"messages", user("x")}}, {{"x-ep-mix", "D"}});
    ASSERT_EQ(d.status, 200u) << d.body;
    EXPECT_EQ(d.header("x-ep-provider"), "openai");
    EXPECT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}, {"messages", user("x")}},
                   {{"x-ep-mix", "/etc/passwd"}}).status, 400u);
}

TEST(gateway, a_provider_model_call_streams_chunks_with_usage_and_done)
{
    server_harness h(upstream());
    auto r = post(h.port(), "/v1/chat/completions",
                  {{"model", "anthropic/claude-sonnet-5-5"}, {"messages", user("Write a haiku")}, {"stream", true},
                   {"stream_options", {{"include_usage", true}}}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("content-type"), "text/event-stream");
    EXPECT_EQ(r.header("x-ep-provider"), "anthropic");
    EXPECT_EQ(r.header("x-ep-model"), "claude-sonnet-5-5");
    auto lines = data_lines(r.body);
    ASSERT_GE(lines.size(), 4u) << r.body;
    EXPECT_EQ(lines.back(), "[DONE]");
    EXPECT_EQ(lines[0]["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    std::string finish;
    for (const auto& l : lines)
        if (l.is_object() && !l["choices"].empty())
        {
            text += l["choices"][0]["delta"].value("content", "");
            if (l["choices"][0]["finish_reason"].is_string())
                finish = l["choices"][0]["finish_reason"];
        }
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(finish, "stop");
    const auto& usage_chunk = lines[lines.size() - 2];
    EXPECT_TRUE(usage_chunk["choices"].empty());
    EXPECT_GT(usage_chunk["usage"]["completion_tokens"].get<int>(), 0);
}

TEST(gateway, tools_and_json_mode_follow_openai_shapes)
{
    server_harness h(upstream());
    json tools = json::array({{{"type", "function"},
                               {"function", {{"name", "get_weather"},
                                             {"parameters", {{"type", "object"},
                                                             {"properties", {{"city", {{"type", "string"}}}}},
                                                             {"required", {"city"}}}}}}}});
    auto r = post(h.port(), "/v1/chat/completions",
                  {{"model", "openai/gpt-6.2-sol"}, {"messages", user("Weather in Paris?")}, {"tools", tools}});
    ASSERT_EQ(r.status, 200u) << r.body;
    auto msg = r.body_json()["choices"][0]["message"];
    ASSERT_TRUE(msg.contains("tool_calls")) << r.body;
    EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(r.body_json()["choices"][0]["finish_reason"], "tool_calls");

    auto s = post(h.port(), "/v1/chat/completions",
                  {{"model", "openai/gpt-6.2-sol"}, {"messages", user("Weather in Paris?")}, {"tools", tools}, {"stream", true}});
    std::string name, args;
    for (const auto& l : data_lines(s.body))
        if (l.is_object() && !l["choices"].empty() && l["choices"][0]["delta"].contains("tool_calls"))
        {
            const auto& tc = l["choices"][0]["delta"]["tool_calls"][0];
            if (tc.contains("id"))
                name = tc["function"]["name"];
            args += tc["function"].value("arguments", "");
        }
    EXPECT_EQ(name, "get_weather");
    EXPECT_TRUE(json::parse(args, nullptr, false).contains("city")) << args;

    auto js_request = json::parse(R"({"model": "persona/architect", "messages": [{"role": "user", "content": "plan"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object",
            "properties": {"title": {"type": "string"}}, "required": ["title"]}}}})");
    auto js = post(h.port(), "/v1/chat/completions", js_request);
    ASSERT_EQ(js.status, 200u) << js.body;
    auto value = json::parse(js.body_json()["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
    EXPECT_TRUE(value.is_object() && value["title"].is_string()) << js.body;
}

TEST(gateway, errors_have_openai_shapes)
{
    server_harness h(upstream());
    auto unknown = post(h.port(), "/v1/chat/completions", {{"model", "persona/nobody"}, {"messages", user("x")}});
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(unknown.body_json()["error"]["code"], "model_not_found");
    EXPECT_EQ(unknown.body_json()["error"]["param"], "model");
    EXPECT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "gpt-4"}, {"messages", user("x")}}).status, 404u);
    EXPECT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "nosuch/model"}, {"messages", user("x")}}).status, 404u);
    auto no_messages = post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}});
    EXPECT_EQ(no_messages.status, 400u);
    EXPECT_EQ(no_messages.body_json()["error"]["param"], "messages");
    EXPECT_EQ(no_messages.body_json()["error"]["type"], "invalid_request_error");
    EXPECT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}, {"messages", user("x")}, {"n", 2}}).status,
              400u);
    EXPECT_EQ(post(h.port(), "/v1/chat/completions",
                   {{"model", "persona/architect"}, {"messages", user("x")}, {"temperature", "hot"}}).status, 400u);
    // The upstream refuses: a 400 from the provider is the client's 400; never retried.
    auto ctx = post(h.port(), "/v1/chat/completions", {{"model", "openai/emu-fault:context-length"}, {"messages", user("x")}});
    EXPECT_EQ(ctx.status, 400u) << ctx.body;
    EXPECT_EQ(ctx.body_json()["error"]["code"], "context_length_exceeded");
    auto models = get(h.port(), "/v1/models").body_json();
    EXPECT_EQ(models["object"], "list");
    bool persona = false;
    for (const auto& m : models["data"])
        persona = persona || m["id"] == "persona/reviewer";
    EXPECT_TRUE(persona);
}

TEST(gateway, a_failure_before_output_is_retried_invisibly)
{
    server_harness h(upstream());
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("503,times=1"), "openai", {}, {}});
    auto r = post(h.port(), "/v1/chat/completions",
                  {{"model", "openai/gpt-6.2-sol"}, {"messages", user("hello")}, {"stream", true}});
    ASSERT_EQ(r.status, 200u) << r.body;
    auto lines = data_lines(r.body);
    EXPECT_EQ(lines.back(), "[DONE]");
    EXPECT_EQ(h.emu().stats().by_status["503"], 1u);
}

TEST(gateway, a_stream_cut_after_output_ends_with_an_error_event_and_no_done)
{
    server_harness h(upstream());
    auto r = post(h.port(), "/v1/chat/completions",
                  {{"model", "openai/emu-fault:cut:6"}, {"messages", user("Write a long essay")}, {"stream", true}});
    ASSERT_EQ(r.status, 200u) << r.body;
    auto lines = data_lines(r.body);
    ASSERT_GE(lines.size(), 2u) << r.body;
    EXPECT_NE(lines.back(), "[DONE]");
    EXPECT_TRUE(lines.back().contains("error")) << r.body;
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
    bool content = false;
    for (const auto& l : lines)
        content = content || (l.is_object() && l.contains("choices") && !l["choices"].empty() &&
                              !l["choices"][0]["delta"].value("content", "").empty());
    EXPECT_TRUE(content) << "output reached the client before the cut";
    // Not streamed: the same cut is retried by the failover layer like any phase.
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("cut:3,times=1"), "openai", {}, {}});
    auto once = post(h.port(), "/v1/chat/completions", {{"model", "openai/gpt-6.2-sol"}, {"messages", user("hi")}});
    EXPECT_EQ(once.status, 200u) << once.body;
}

}  // namespace
}  // namespace ep::server::test
