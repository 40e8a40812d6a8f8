// The runtime every front end shares, against the in-process emulator through the real
// HTTP/SSE transport: one keep-alive connection per provider host for a whole run (plain and
// TLS), a phase's `retry:` block deciding how often a failing call is repeated, the logger, and
// the runtime's errors.
#include "io_fixture.hpp"

#include <ep/cli/commands.hpp>
#include <ep/emulator/emulator.hpp>
#include <ep/emulator/faults.hpp>
#include <ep/runtime/runtime.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace ep::runtime {
namespace {

namespace ps = ep::persistence;
using namespace std::chrono_literals;

std::filesystem::path workflows_dir() { return std::filesystem::path(EP_SOURCE_DIR) / "workflows"; }

class runtime_test : public ep::test::io_fixture
{
protected:
    void SetUp() override
    {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() / ("ep-rt-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override
    {
        io_fixture::TearDown();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void start_emulator(bool tls = false)
    {
        emulator::emulator_config ecfg;
        ecfg.zero_latency = true;
        ecfg.tls = tls;
        emu_ = std::make_unique<emulator::emulator>(ctx.get_executor(), ecfg);
        emu_->start();
    }

    runtime_config config(ep::environment env)
    {
        runtime_config cfg;
        cfg.env = std::move(env);
        cfg.workflows_dir = workflows_dir();
        cfg.store = (dir_ / "runs.db").string();
        cfg.logger = logger_;
        return cfg;
    }

    ep::environment emulated() const
    {
        return cli::emulated_environment(ep::environment::from_map({{"PATH", "/nonexistent"}}), emu_->base_url());
    }

    // Prepares `yaml` (or a shipped workflow file) and runs it to its end.
    result<engine::run_outcome> run_text(runtime& rt, const std::string& yaml, prepare_options popts = {})
    {
        auto prepared = rt.prepare({{}, yaml, "wf.yaml"}, popts);
        if (!prepared)
            return prepared.error();
        auto wf = std::make_shared<const prepared_workflow>(std::move(*prepared));
        return run(rt.run(wf, sink_, nullptr, options_), 60s);
    }

    std::filesystem::path dir_;
    std::unique_ptr<emulator::emulator> emu_;
    engine::collecting_sink sink_;
    run_options options_;
    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> logger_ = [this] {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_);
        sink->set_pattern("%l %v");
        auto l = std::make_shared<spdlog::logger>("test", sink);
        l->set_level(spdlog::level::info);
        return l;
    }();
};

constexpr const char* chain_yaml = R"(name: chain
phases:
  a: {persona: code_writer_openai, prompt: "first"}
  b: {persona: code_writer_openai, needs: [a], prompt: "second {{ phases.a.output }}"}
  c: {persona: code_writer_openai, needs: [b], prompt: "third {{ phases.b.output }}"}
  d: {persona: code_writer_openai, needs: [c], prompt: "fourth"}
)";

TEST_F(runtime_test, one_keep_alive_connection_serves_every_phase_of_a_run)
{
    start_emulator();
    runtime rt(ctx.get_executor(), config(emulated()));
    prepare_options popts;
    popts.config = "D";
    auto out = run_text(rt, chain_yaml, popts);
    ASSERT_TRUE(out) << out.error().message;
    ASSERT_EQ(out->status, ps::run_status::completed) << out->error;
    const auto stats = emu_->stats();
    EXPECT_EQ(stats.requests, 4u);
    EXPECT_EQ(stats.connections, 1u) << "four sequential phases on one provider host: one connection";
    emu_->stop();
}

TEST_F(runtime_test, one_tls_connection_serves_every_phase_of_a_run)
{
    start_emulator(/*tls=*/true);
    const auto ca = dir_ / "emulator-ca.pem";
    std::ofstream(ca) << emu_->ca_pem();
    auto env = emulated();
    env.set("EP_OPENAI_BASE_URL", emu_->openai_base_url());  // https://
    runtime rt(ctx.get_executor(), config(env));
    prepare_options popts;
    popts.config = "D";
    const std::string yaml = std::string(chain_yaml) + "providers:\n  openai: {ca_file: \"" + ca.string() + "\"}\n";
    auto out = run_text(rt, yaml, popts);
    ASSERT_TRUE(out) << out.error().message << "\n" << out.error().details.str();
    ASSERT_EQ(out->status, ps::run_status::completed) << out->error;
    EXPECT_EQ(emu_->stats().requests, 4u);
    EXPECT_EQ(emu_->stats().connections, 1u) << "one TLS handshake for the whole run";
    emu_->stop();
}

// A loop (implement <-> review, 2 passes: the emulated reviewer approves once its findings are
// quoted) between an upstream design and a downstream docs phase, for the fork below.
constexpr const char* fork_yaml = R"(name: forked
inputs:
  topic: {type: string, default: owls}
phases:
  design: {persona: code_writer_openai, prompt: "design {{ inputs.topic }}"}
  side: {persona: code_writer_openai, prompt: "side {{ inputs.topic }}"}
  implement:
    persona: code_writer_openai
    needs: [design]
    prompt: "implement {{ inputs.topic }}; findings: {{ previous.review.output }}"
  review:
    persona: code_writer_openai
    needs: [implement]
    prompt: "review"
    repeat: {from: implement, until: '.iteration >= 2', max_iterations: 2}
  docs: {persona: code_writer_openai, needs: [review, side], prompt: "docs {{ inputs.topic }}"}
)";

TEST_F(runtime_test, a_fork_copies_the_phases_before_its_from_phase_and_runs_the_rest_again)
{
    start_emulator();
    runtime rt(ctx.get_executor(), config(emulated()));
    prepare_options popts;
    popts.config = "D";
    auto parent = run_text(rt, fork_yaml, popts);
    ASSERT_TRUE(parent) << parent.error().message;
    ASSERT_EQ(parent->status, ps::run_status::completed) << parent->error;
    ASSERT_EQ(emu_->stats().requests, 7u) << "design, side, 2 x (implement, review), docs";

    fork_options fo;
    fo.from_phase = "implement";
    fo.inputs = {"topic=cats"};
    sink_.events.clear();
    auto child = run(rt.fork(parent->run_id, fo, sink_, nullptr, options_), 60s);
    ASSERT_TRUE(child) << child.error().message;
    ASSERT_EQ(child->status, ps::run_status::completed) << child->error;
    EXPECT_NE(child->run_id, parent->run_id);
    // Re-run: implement and review (both passes) and docs; copied: design and side.
    EXPECT_EQ(emu_->stats().requests, 7u + 5u);
    std::set<std::string> started;
    for (const auto* e : sink_.of_type("phase_started"))
        started.insert(e->field("phase"));
    EXPECT_EQ(started, (std::set<std::string>{"implement", "review", "docs"}));
    const auto requests = emu_->requests();
    ASSERT_EQ(requests.size(), 12u);
    for (std::size_t i = 7; i < requests.size(); ++i)
    {
        EXPECT_EQ(requests[i].body.find("owls"), std::string::npos) << "the fork's new input reaches the re-run phases";
    }

    auto details = rt.show(child->run_id);
    ASSERT_TRUE(details) << details.error().message;
    EXPECT_EQ(details->run.parent_run_id, parent->run_id);
    EXPECT_EQ(details->run.parent_phase, "implement");
    int copied = 0, review_passes = 0;
    for (const auto& p : details->phases)
    {
        EXPECT_EQ(p.status, ps::phase_status::completed) << p.phase_id;
        copied += p.phase_id == "design" || p.phase_id == "side";
        review_passes += p.phase_id == "review";
    }
    EXPECT_EQ(copied, 2);
    EXPECT_EQ(review_passes, 2);
    auto design = std::find_if(details->phases.begin(), details->phases.end(),
                               [](const ps::phase_record& p) { return p.phase_id == "design"; });
    ASSERT_NE(design, details->phases.end());
    EXPECT_NE(design->output_text.find("owls"), std::string::npos) << "copied from the parent, not re-run";
    emu_->stop();
}

// One phase with exactly one candidate (an inline persona), whose first call fails with a 500.
std::string failing_once_yaml(const std::string& retry_block)
{
    return "name: retry\n" + retry_block +
           "personas:\n"
           "  solo: {provider_preferences: [openai/gpt-4.1]}\n"
           "phases:\n"
           "  only: {persona: solo, prompt: \"hi\"}\n";
}

TEST_F(runtime_test, retry_max_attempts_1_makes_one_call_and_the_phase_fails)
{
    start_emulator();
    emu_->add_fault({*emulator::parse_fault_spec("500,times=1"), {}, {}, {}});
    runtime rt(ctx.get_executor(), config(emulated()));
    prepare_options popts;
    popts.config = "D";
    auto out = run_text(rt, failing_once_yaml("defaults:\n  retry: {max_attempts: 1}\n"), popts);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->status, ps::run_status::failed);
    EXPECT_EQ(emu_->stats().requests, 1u) << "max_attempts: 1 means no retry on the same model";
    emu_->stop();
}

TEST_F(runtime_test, without_a_retry_block_the_default_retries_the_failed_call)
{
    start_emulator();
    emu_->add_fault({*emulator::parse_fault_spec("500,times=1"), {}, {}, {}});
    runtime rt(ctx.get_executor(), config(emulated()));
    prepare_options popts;
    popts.config = "D";
    auto out = run_text(rt, failing_once_yaml(""), popts);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->status, ps::run_status::completed) << out->error;
    EXPECT_EQ(emu_->stats().requests, 2u);
    EXPECT_NE(log_text_.str().find("retrying openai/gpt-4.1 after 500"), std::string::npos)
        << "the retry is logged through the runtime's logger: " << log_text_.str();
    emu_->stop();
}

// Request features end to end: `reasoning:`, `cache:` and a JSON `output:` schema written in
// the workflow reach each provider's wire format (the emulator keeps every request body).
std::string features_yaml(const std::string& preference, const std::string& phase_keys,
                          const std::string& extra = "")
{
    return "name: features\n" + extra +
           "personas:\n"
           "  solo: {provider_preferences: [" + preference + "], system: \"You answer in JSON.\"}\n"
           "phases:\n"
           "  only:\n"
           "    persona: solo\n"
           "    prompt: hi\n"
           "    output: {format: json, schema: {type: object, properties: {a: {type: string}}, required: [a]}}\n" +
           phase_keys;
}

class request_features_e2e : public runtime_test
{
protected:
    /// Runs the one-phase workflow and returns the body of its one provider request.
    nlohmann::json body_of(const std::string& yaml)
    {
        start_emulator();
        runtime rt(ctx.get_executor(), config(emulated()));
        auto out = run_text(rt, yaml);
        EXPECT_TRUE(out) << out.error().message << "\n" << out.error().details.str();
        if (out)
        {
            EXPECT_EQ(out->status, ps::run_status::completed) << out->error;
        }
        std::vector<emulator::request_record> calls;
        for (auto& r : emu_->requests())
            if (r.protocol != "admin" && r.protocol != "probe")
                calls.push_back(r);
        emu_->stop();
        EXPECT_EQ(calls.size(), 1u);
        return calls.empty() ? nlohmann::json{} : nlohmann::json::parse(calls.front().body);
    }
};

TEST_F(request_features_e2e, openai_chat_gets_reasoning_effort_and_a_json_schema)
{
    auto body = body_of(features_yaml("openai/gpt-6.2-sol", "    reasoning: {effort: high}\n"));
    EXPECT_EQ(body.value("reasoning_effort", ""), "high") << body.dump();
    ASSERT_TRUE(body.contains("response_format")) << body.dump();
    EXPECT_EQ(body["response_format"]["type"], "json_schema");
    EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["required"][0], "a");
}

TEST_F(request_features_e2e, openai_responses_gets_reasoning_and_text_format)
{
    auto body = body_of(features_yaml("resp/gpt-6.2-sol", "    reasoning: {effort: low}\n",
                                      "providers:\n"
                                      "  resp:\n"
                                      "    type: openai_responses\n"
                                      "    base_url_env: EP_OPENAI_BASE_URL\n"
                                      "    base_url: http://127.0.0.1:1/v1\n"
                                      "    auth: none\n"
                                      "    capabilities: [streaming, system_prompt, json_mode]\n"
                                      "    models: [{id: gpt-6.2-sol}]\n"));
    ASSERT_TRUE(body.contains("reasoning")) << body.dump();
    EXPECT_EQ(body["reasoning"]["effort"], "low");
    EXPECT_EQ(body["text"]["format"]["type"], "json_schema") << body.dump();
}

TEST_F(request_features_e2e, anthropic_gets_adaptive_thinking_effort_cache_control_and_output_config)
{
    // The persona asks for reasoning and caching; the phase says nothing, so the persona's win.
    auto yaml = features_yaml("anthropic/claude-sonnet-5-5", "");
    const std::string persona = "  solo: {provider_preferences: [anthropic/claude-sonnet-5-5], system: \"You answer in JSON.\"}\n";
    yaml.replace(yaml.find(persona), persona.size(),
                 "  solo: {provider_preferences: [anthropic/claude-sonnet-5-5], system: \"You answer in JSON.\",\n"
                 "         reasoning: {effort: medium}, cache: true}\n");
    auto body = body_of(yaml);
    EXPECT_EQ(body["thinking"]["type"], "adaptive") << body.dump();
    EXPECT_EQ(body["output_config"]["effort"], "medium") << body.dump();
    EXPECT_EQ(body["output_config"]["format"]["type"], "json_schema") << body.dump();
    // `cache: true` marks even this short system prompt.
    ASSERT_TRUE(body["system"].is_array()) << body.dump();
    EXPECT_EQ(body["system"][0]["cache_control"]["type"], "ephemeral") << body.dump();
}

TEST_F(request_features_e2e, anthropic_cache_false_sends_no_breakpoint_and_no_reasoning_sends_no_thinking)
{
    std::string long_system(6000, 'x');
    auto yaml = features_yaml("anthropic/claude-sonnet-5-5", "    cache: false\n");
    const std::string from = "system: \"You answer in JSON.\"";
    yaml.replace(yaml.find(from), from.size(), "system: \"" + long_system + "\"");
    auto body = body_of(yaml);
    EXPECT_FALSE(body.contains("thinking")) << "no reasoning key, no thinking";
    EXPECT_EQ(body.dump().find("cache_control"), std::string::npos) << "cache: false";
}

// A `context:` block is a cache breakpoint of its own (marked whatever its size with
// `cache: true`); the prompt after it is not.
TEST_F(request_features_e2e, anthropic_marks_the_context_block_not_the_prompt)
{
    start_emulator();
    runtime rt(ctx.get_executor(), config(emulated()));
    auto out = run_text(rt,
                        "name: ctx\n"
                        "personas:\n"
                        "  solo: {provider_preferences: [anthropic/claude-sonnet-5-5]}\n"
                        "phases:\n"
                        "  a: {persona: solo, prompt: \"Write a design.\"}\n"
                        "  b: {persona: solo, needs: [a], context: {phases: [a]}, cache: true, prompt: review it}\n");
    ASSERT_TRUE(out) << out.error().message << "\n" << out.error().details.str();
    ASSERT_EQ(out->status, ps::run_status::completed) << out->error;
    std::vector<nlohmann::json> bodies;
    for (auto& r : emu_->requests())
        if (r.protocol == "anthropic")
            bodies.push_back(nlohmann::json::parse(r.body));
    emu_->stop();
    ASSERT_EQ(bodies.size(), 2u);
    const auto& user = bodies[1]["messages"].back();
    ASSERT_TRUE(user["content"].is_array()) << user.dump();
    ASSERT_EQ(user["content"].size(), 2u) << user.dump();
    const std::string context_text = user["content"][0].value("text", "");
    EXPECT_NE(context_text.find("Output of phase 'a'"), std::string::npos);
    EXPECT_EQ(user["content"][0]["cache_control"]["type"], "ephemeral") << user.dump();
    EXPECT_FALSE(user["content"][1].contains("cache_control")) << "the prompt itself is not a breakpoint";
    EXPECT_EQ(user["content"][1].value("text", ""), "review it");
}

TEST_F(request_features_e2e, gemini_gets_a_thinking_level_and_a_response_schema)
{
    auto body = body_of(features_yaml("gemini/gemini-4-neon", "    reasoning: {effort: high}\n"));
    const auto& gen = body["generationConfig"];
    ASSERT_TRUE(gen.contains("thinkingConfig")) << body.dump();
    EXPECT_EQ(gen["thinkingConfig"].value("thinkingLevel", ""), "high") << body.dump();
    EXPECT_EQ(gen["responseMimeType"], "application/json");
    EXPECT_EQ(gen["responseJsonSchema"]["required"][0], "a") << body.dump();
}

// A phase's `first_token_timeout:` bounds each of its calls: the emulator sends the headers at
// once and the first token only after 3 s; the phase's 300 ms limit ends every attempt long
// before (the provider's own first_token limit is 30 s), and the phase fails saying why.
TEST_F(runtime_test, a_phase_first_token_timeout_ends_a_call_without_content)
{
    start_emulator();
    emu_->add_fault({*emulator::parse_fault_spec("first-token:3000"), {}, {}, {}});
    runtime rt(ctx.get_executor(), config(emulated()));
    prepare_options popts;
    popts.config = "D";
    const auto start = std::chrono::steady_clock::now();
    auto out = run_text(rt,
                        "name: ft\n"
                        "personas:\n"
                        "  solo: {provider_preferences: [openai/gpt-4.1]}\n"
                        "phases:\n"
                        "  only: {persona: solo, prompt: hi, first_token_timeout: 300ms, retry: {max_attempts: 2}}\n",
                        popts);
    ASSERT_TRUE(out) << out.error().message << "\n" << out.error().details.str();
    EXPECT_EQ(out->status, ps::run_status::failed);
    EXPECT_NE(out->error.find("first-token"), std::string::npos) << out->error;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the provider's 30 s limit did not apply";
    emu_->stop();
}

TEST_F(runtime_test, an_unroutable_persona_is_refused_before_anything_is_stored)
{
    runtime rt(ctx.get_executor(), config(ep::environment::from_map({{"PATH", "/nonexistent"}})));
    auto out = run_text(rt, chain_yaml);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, runtime_errc::unroutable);
    EXPECT_NE(out.error().details.str().find("phase 'a'"), std::string::npos) << out.error().details.str();
    EXPECT_FALSE(std::filesystem::exists(dir_ / "runs.db")) << "nothing was created";
}

TEST_F(runtime_test, resume_of_an_unknown_run_and_of_a_completed_run)
{
    start_emulator();
    runtime rt(ctx.get_executor(), config(emulated()));
    auto missing = run(rt.resume("nope", sink_, nullptr, options_), 10s);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, runtime_errc::unknown_run);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "runs.db")) << "a resume never creates a store";

    prepare_options popts;
    popts.config = "D";
    auto out = run_text(rt, chain_yaml, popts);
    ASSERT_TRUE(out && out->status == ps::run_status::completed);
    auto again = run(rt.resume(out->run_id, sink_, nullptr, options_), 10s);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, runtime_errc::already_completed);
    auto listed = rt.list(10);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->runs.size(), 1u);
    EXPECT_EQ(listed->runs[0].id, out->run_id);
    auto shown = rt.show(out->run_id);
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->phases.size(), 4u);
    EXPECT_EQ(shown->attempts.size(), 4u);
    emu_->stop();
}

TEST_F(runtime_test, invalid_yaml_reports_every_problem_with_its_location)
{
    runtime rt(ctx.get_executor(), config(ep::environment::from_map({})));
    auto prepared = rt.prepare({{}, std::string("name: x\nphases:\n  a: {persona: nobody, prompt: hi, bogus: 1}\n"), "x.yaml"},
                               {});
    ASSERT_FALSE(prepared);
    EXPECT_EQ(prepared.error().code, runtime_errc::invalid_workflow);
    const auto text = prepared.error().details.str();
    EXPECT_NE(text.find("x.yaml:3:"), std::string::npos) << text;
    EXPECT_NE(text.find("bogus"), std::string::npos) << text;
}

}  // namespace
}  // namespace ep::runtime
