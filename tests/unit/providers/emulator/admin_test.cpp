#include "emulator_fixture.hpp"

namespace ep::emulator::test {
namespace {

using json = nlohmann::json;

raw_response admin(unsigned short port, const std::string& method, const std::string& path, const std::string& body = "")
{
    raw_request req;
    req.method = method;
    req.target = "/_emulator/" + path;
    req.body = body;
    return send(port, req);
}

TEST_F(emulator_test, request_log_records_without_credentials)
{
    openai(openai_body("gpt-emu", true), {{"x-ep-persona", "qa"}});
    anthropic(anthropic_body("claude-emu", false));
    auto r = admin(port_, "GET", "requests");
    ASSERT_EQ(r.status, 200u);
    auto j = r.json();
    EXPECT_EQ(j["emulator"], "EP development emulator");
    ASSERT_EQ(j["requests"].size(), 2u);
    const auto& first = j["requests"][0];
    EXPECT_EQ(first["protocol"], "openai");
    EXPECT_EQ(first["model"], "gpt-emu");
    EXPECT_EQ(first["persona"], "qa");
    EXPECT_EQ(first["stream"], true);
    EXPECT_EQ(first["status"], 200);
    EXPECT_EQ(first["headers"]["authorization"], "[redacted]");
    EXPECT_EQ(first["body"]["messages"][0]["content"], "Build a cache");
    EXPECT_EQ(j["requests"][1]["headers"]["x-api-key"], "[redacted]");
    EXPECT_EQ(r.body.find("sk-test-secret"), std::string::npos);
    EXPECT_EQ(r.body.find("sk-ant-secret"), std::string::npos);
    EXPECT_LT(first["seq"].get<int>(), j["requests"][1]["seq"].get<int>());
}

TEST_F(emulator_test, stats_count_per_protocol_model_and_persona)
{
    openai(openai_body("a", false, "You are the architect."));
    openai(openai_body("a", false, "You are the architect."));
    gemini("b", true, gemini_body("You write documentation."));
    auto s = admin(port_, "GET", "stats").json();
    EXPECT_EQ(s["requests"], 3);
    EXPECT_EQ(s["by_protocol"]["openai"], 2);
    EXPECT_EQ(s["by_protocol"]["gemini"], 1);
    EXPECT_EQ(s["by_model"]["a"], 2);
    EXPECT_EQ(s["by_persona"]["architect"], 2);
    EXPECT_EQ(s["by_persona"]["docs"], 1);
    EXPECT_EQ(emu_->stats().requests, 3u);
}

TEST_F(emulator_test, reset_clears_log_counters_and_rules)
{
    openai(openai_body("a", false));
    ASSERT_EQ(admin(port_, "POST", "faults", R"({"fault":"500"})").status, 200u);
    EXPECT_EQ(admin(port_, "POST", "reset").status, 200u);
    EXPECT_TRUE(emu_->requests().empty());
    EXPECT_EQ(emu_->stats().requests, 0u);
    EXPECT_EQ(openai(openai_body("a", false)).status, 200u);
}

TEST_F(emulator_test, admin_fault_rules_post_get_delete)
{
    auto post = admin(port_, "POST", "faults",
                      R"([{"fault":"429,retry-after=1","protocol":"gemini","times":1},{"fault":"content-filter","model":"x"}])");
    ASSERT_EQ(post.status, 200u) << post.body;
    EXPECT_EQ(post.json()["rules"], 2);
    auto rules = admin(port_, "GET", "faults").json()["rules"];
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0]["protocol"], "gemini");
    EXPECT_EQ(rules[0]["remaining"], 1);

    EXPECT_EQ(openai(openai_body("m", false)).status, 200u);
    auto g = gemini("m", false, gemini_body());
    EXPECT_EQ(g.status, 429u);
    EXPECT_EQ(g.header("retry-after"), "1");
    EXPECT_EQ(gemini("m", false, gemini_body()).status, 200u);
    EXPECT_EQ(openai(openai_body("x", false)).json()["choices"][0]["finish_reason"], "content_filter");

    EXPECT_EQ(admin(port_, "DELETE", "faults").status, 200u);
    EXPECT_EQ(openai(openai_body("x", false)).json()["choices"][0]["finish_reason"], "stop");
}

TEST_F(emulator_test, admin_rejects_bad_rules)
{
    EXPECT_EQ(admin(port_, "POST", "faults", R"({"fault":"explode"})").status, 400u);
    EXPECT_EQ(admin(port_, "POST", "faults", R"({"nofault":1})").status, 400u);
    EXPECT_EQ(admin(port_, "POST", "faults", "not json").status, 400u);
    EXPECT_EQ(admin(port_, "GET", "nothing").status, 404u);
}

TEST_F(emulator_test, probes_and_routing)
{
    raw_request head;
    head.method = "HEAD";
    head.target = "/";
    auto h = send(port_, head);
    EXPECT_EQ(h.status, 200u);
    EXPECT_EQ(h.header("x-ep-emulator"), "EP development emulator");

    raw_request get;
    get.method = "GET";
    get.target = "/";
    auto g = send(port_, get);
    EXPECT_EQ(g.status, 200u);
    EXPECT_NE(g.body.find("EP development emulator"), std::string::npos);

    raw_request wrong_method;
    wrong_method.method = "GET";
    wrong_method.target = "/v1/chat/completions";
    auto w = send(port_, wrong_method);
    EXPECT_EQ(w.status, 405u);
    EXPECT_EQ(w.header("allow"), "POST");

    raw_request unknown;
    unknown.target = "/v2/unknown";
    unknown.body = "{}";
    auto u = send(port_, unknown);
    EXPECT_EQ(u.status, 404u);
    EXPECT_TRUE(u.json()["error"].contains("message"));
}

TEST_F(emulator_test, persona_from_header_or_first_role_in_system_prompt)
{
    auto persona_of = [&](const std::string& system, std::map<std::string, std::string> headers = {}) {
        openai(openai_body("m", false, system), std::move(headers));
        return emu_->requests().back().persona;
    };
    EXPECT_EQ(persona_of("You are a QA engineer."), "qa");
    EXPECT_EQ(persona_of("You are a senior software engineer. Write tests too."), "code_writer");
    EXPECT_EQ(persona_of("You are the code reviewer for this engineer."), "reviewer");
    EXPECT_EQ(persona_of("You are a requirements analyst."), "requirements");
    EXPECT_EQ(persona_of("Aquatic helper."), "assistant") << "'qa' only as a word";
    EXPECT_EQ(persona_of("You are an architect.", {{"x-ep-persona", "docs"}}), "docs");
    auto text = openai(openai_body("m", false, "You are a code writer.", "Write a python dedupe"))
                    .json()["choices"][0]["message"]["content"]
                    .get<std::string>();
    EXPECT_NE(text.find("```python"), std::string::npos) << text;
}

}  // namespace
}  // namespace ep::emulator::test
