// /metrics after real runs and gateway calls; OpenTelemetry spans (invoke_workflow → phase →
// chat {model}, GenAI attributes, error.type, no content by default) received by a loopback
// OTLP receiver from ep-serve and from the ep-run binary.
#include "otlp_receiver.hpp"
#include "server_fixture.hpp"

#include <ep/emulator/faults.hpp>

#include "ep_run_process.hpp"

#include <cstdlib>
#include <regex>

namespace ep::server::test {
namespace {

double metric(const std::string& text, const std::string& line_prefix)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(line_prefix, 0) == 0 && line.size() > line_prefix.size() && line[line_prefix.size()] == ' ')
            return std::stod(line.substr(line_prefix.size() + 1));
    return -1;
}

TEST(observability, metrics_count_runs_phases_tokens_attempts_and_streams)
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    server_harness h(o);
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("503,times=1"), {}, {}, "architect"});
    auto r = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}});
    ASSERT_EQ(r.status, 201u);
    const auto id = r.body_json()["run_id"].get<std::string>();
    h.wait_for_status(id, "completed");
    ASSERT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "openai/gpt-6.2-sol"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}).status, 200u);
    auto m = get(h.port(), "/metrics");
    ASSERT_EQ(m.status, 200u);
    EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto& t = m.body;
    EXPECT_EQ(metric(t, "ep_runs_total{status=\"succeeded\"}"), 1) << t;
    // design, then implement → review twice (the emulated reviewer asks for changes once).
    EXPECT_EQ(metric(t, "ep_phases_total{status=\"completed\"}"), 5);
    EXPECT_EQ(metric(t, "ep_phase_duration_seconds_count{status=\"completed\"}"), 5);
    EXPECT_EQ(metric(t, "ep_attempts_failed_total{error=\"503\",provider=\"anthropic\"}"), 1) << t;
    EXPECT_GT(metric(t, "ep_tokens_total{direction=\"output\",model=\"gpt-6.2-sol\",provider=\"openai\"}"), 0) << t;
    EXPECT_NE(t.find("ep_time_to_first_token_seconds_bucket"), std::string::npos);
    EXPECT_EQ(metric(t, "ep_provider_calls_in_flight"), 0);
    EXPECT_EQ(metric(t, "ep_runs_in_flight"), 0);
    EXPECT_EQ(metric(t, "ep_circuits_open"), 0);
    EXPECT_EQ(metric(t, "ep_sse_subscribers"), 0);
    EXPECT_GE(metric(t, "ep_http_responses_total{code=\"201\"}"), 1);

    // An SSE client following a slow run is counted while it is connected.
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("slow:1500,times=1"), {}, {}, "architect"});
    auto slow = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "y"}}}});
    sse_client follower(h.port(), "/v1/runs/" + slow.body_json()["run_id"].get<std::string>() + "/events");
    ASSERT_TRUE(follower.next());
    auto during = get(h.port(), "/metrics").body;
    EXPECT_EQ(metric(during, "ep_sse_subscribers"), 1) << during;
    EXPECT_EQ(metric(during, "ep_runs_in_flight"), 1);
    EXPECT_EQ(metric(during, "ep_provider_calls_in_flight"), 1);
}

std::vector<json> named(const std::vector<json>& spans, const std::string& prefix)
{
    std::vector<json> out;
    for (const auto& s : spans)
        if (s["name"].get<std::string>().rfind(prefix, 0) == 0)
            out.push_back(s);
    return out;
}

TEST(observability, a_run_exports_its_spans_over_otlp_with_genai_attributes)
{
    otlp_receiver otlp;
    server_harness::options o;
    o.emulator.zero_latency = true;
    o.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.endpoint();
    server_harness h(o);
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("429,times=1"), {}, {}, "reviewer"});
    auto r = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "secret plan"}}}});
    ASSERT_EQ(r.status, 201u);
    h.wait_for_status(r.body_json()["run_id"], "completed");
    ASSERT_TRUE(otlp.wait_for([](const auto& s) { return !named(s, "invoke_workflow").empty(); })) << otlp.raw();
    const auto spans = otlp.spans();
    EXPECT_EQ(otlp.paths().front(), "/v1/traces");
    const auto runs = named(spans, "invoke_workflow");
    ASSERT_EQ(runs.size(), 1u);
    const auto& root = runs[0];
    EXPECT_EQ(root["name"], "invoke_workflow design-implement-review");
    EXPECT_FALSE(root.contains("parentSpanId"));
    EXPECT_EQ(span_attr(root, "gen_ai.operation.name"), "invoke_workflow");
    EXPECT_EQ(root["status"]["code"], 1);
    EXPECT_EQ(span_attr(root["_resource"], "service.name"), "ep-serve");
    const auto phases = named(spans, "phase ");
    ASSERT_EQ(phases.size(), 5u) << "design, then implement and review twice";
    std::set<std::string> phase_ids;
    for (const auto& p : phases)
    {
        EXPECT_EQ(p["parentSpanId"], root["spanId"]);
        EXPECT_EQ(p["traceId"], root["traceId"]);
        phase_ids.insert(p["spanId"]);
    }
    const auto chats = named(spans, "chat ");
    ASSERT_EQ(chats.size(), 6u) << "five answers and the reviewer's rate-limited attempt";
    int failed = 0;
    for (const auto& c : chats)
    {
        EXPECT_EQ(c["kind"], 3);
        EXPECT_TRUE(phase_ids.count(c["parentSpanId"]));
        EXPECT_EQ(span_attr(c, "gen_ai.operation.name"), "chat");
        EXPECT_EQ(c["name"], "chat " + span_attr(c, "gen_ai.request.model").get<std::string>());
        EXPECT_FALSE(span_attr(c, "gen_ai.provider.name").is_null());
        if (span_attr(c, "error.type").is_null())
        {
            EXPECT_EQ(span_attr(c, "gen_ai.response.model"), span_attr(c, "gen_ai.request.model"));
            EXPECT_GT(std::stoll(span_attr(c, "gen_ai.usage.output_tokens").get<std::string>()), 0);
            EXPECT_GT(std::stoll(span_attr(c, "gen_ai.usage.input_tokens").get<std::string>()), 0);
        }
        else
        {
            ++failed;
            EXPECT_EQ(span_attr(c, "error.type"), "429");
            EXPECT_EQ(c["status"]["code"], 2);
        }
    }
    EXPECT_EQ(failed, 1);
    // Content is off by default: neither the prompt nor an answer is exported.
    EXPECT_EQ(otlp.raw().find("secret plan"), std::string::npos);
    EXPECT_EQ(otlp.raw().find("[emulated"), std::string::npos);
    EXPECT_EQ(otlp.raw().find("gen_ai.output.messages"), std::string::npos);

    // A gateway call is a chat span of its own.
    ASSERT_EQ(post(h.port(), "/v1/chat/completions", {{"model", "openai/gpt-6.2-sol"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}).status, 200u);
    EXPECT_TRUE(otlp.wait_for([](const auto& s) {
        for (const auto& c : named(s, "chat gpt-6.2-sol"))
            if (span_attr(c, "ep.gateway") == "1")
                return true;
        return false;
    }));
}

TEST(observability, ep_run_exports_the_same_spans)
{
    otlp_receiver otlp;
    ep::testing::scratch_dir dir("ep-run-otel-");
    ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint().c_str(), 1);
    ::setenv("OTEL_SERVICE_NAME", "my-pipeline", 1);
    const auto pid = ep::testing::spawn_ep_run(
        {"--emulate", "--quiet", (std::filesystem::path(EP_SOURCE_DIR) / "workflows" / "design-implement-review.yaml").string(),
         "--input", "task=x", "--db", (dir / "runs.db").string()},
        dir / "out", dir / "err", dir.path());
    ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    ::unsetenv("OTEL_SERVICE_NAME");
    auto exit = ep::testing::wait_child(pid);
    ASSERT_EQ(exit.code, 0) << ep::testing::slurp(dir / "err");
    // ep-run exports before it exits: everything is here already.
    const auto spans = otlp.spans();
    ASSERT_EQ(named(spans, "invoke_workflow").size(), 1u) << otlp.raw();
    EXPECT_EQ(named(spans, "phase ").size(), 5u) << "design, then implement and review twice";
    EXPECT_EQ(named(spans, "chat ").size(), 5u);
    EXPECT_EQ(span_attr(spans[0]["_resource"], "service.name"), "my-pipeline");
}

}  // namespace
}  // namespace ep::server::test
