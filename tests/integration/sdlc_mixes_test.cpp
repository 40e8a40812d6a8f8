// The shipped sdlc workflow under each mix A–E against the in-process emulator, through the
// real HTTP/SSE transport: which provider served each phase, from the phase records and from
// the emulator's request log.
#include "io_fixture.hpp"

#include <ep/cli/commands.hpp>
#include <ep/emulator/emulator.hpp>
#include <ep/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace ep::cli {
namespace {

namespace ps = ep::persistence;
using namespace std::chrono_literals;

std::filesystem::path workflows_dir() { return std::filesystem::path(EP_SOURCE_DIR) / "workflows"; }

struct mix_case
{
    std::string mix;
    std::map<std::string, std::string> expected;  // phase -> provider
};

class sdlc_mix_test : public ep::test::io_fixture, public ::testing::WithParamInterface<mix_case>
{
protected:
    void SetUp() override
    {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() / ("ep-int-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override
    {
        io_fixture::TearDown();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::filesystem::path dir_;
};

TEST_P(sdlc_mix_test, every_phase_is_served_by_the_mixs_provider)
{
    const auto& param = GetParam();
    emulator::emulator_config ecfg;
    ecfg.zero_latency = true;
    emulator::emulator emu(ctx.get_executor(), ecfg);
    emu.start();
    auto env = emulated_environment(ep::environment::from_map({{"PATH", "/nonexistent"}}), emu.base_url());

    runtime::runtime_config cfg;
    cfg.env = env;
    cfg.workflows_dir = workflows_dir();
    cfg.store = (dir_ / "runs.db").string();
    runtime::runtime rt(ctx.get_executor(), cfg);
    runtime::prepare_options popts;
    popts.config = param.mix;
    popts.inputs = {"task=a URL shortener", "audience=developers"};
    auto prepared = rt.prepare({workflows_dir() / "sdlc.yaml", {}, {}}, popts);
    ASSERT_TRUE(prepared) << prepared.error().message << "\n" << prepared.error().details.str();
    auto wf = std::make_shared<const runtime::prepared_workflow>(std::move(*prepared));
    engine::collecting_sink sink;
    const runtime::run_options options;
    auto out = run(rt.run(wf, sink, nullptr, options), 60s);
    emu.stop();
    ASSERT_TRUE(out) << out.error().message;
    ASSERT_EQ(out->status, ps::run_status::completed) << out->error;

    auto shown = rt.show(out->run_id);
    ASSERT_TRUE(shown) << shown.error().message;
    std::map<std::string, ps::phase_record> by_phase;
    for (const auto& rec : shown->phases)
        by_phase[rec.phase_id] = rec;
    for (const auto& [phase, provider] : param.expected)
    {
        ASSERT_TRUE(by_phase.count(phase)) << phase;
        const auto& rec = by_phase[phase];
        EXPECT_EQ(rec.provider, provider) << "mix " << param.mix << ", phase " << phase;
        EXPECT_GT(rec.output_tokens, 0);
        EXPECT_FALSE(rec.output_text.empty());
    }
    const auto& req_rec = by_phase["requirements"];
    ASSERT_TRUE(req_rec.output_json) << "the JSON phase parsed and validated";
    EXPECT_TRUE(req_rec.output_json->contains("summary"));

    // The emulator saw one protocol request per phase, in the protocol of the chosen provider.
    std::map<std::string, int> by_protocol;
    int protocol_requests = 0;
    for (const auto& r : emu.requests())
        if (r.protocol == "openai" || r.protocol == "anthropic" || r.protocol == "gemini")
        {
            ++by_protocol[r.protocol];
            ++protocol_requests;
        }
    EXPECT_EQ(protocol_requests, 6);
    std::map<std::string, int> expected_protocols;
    for (const auto& [phase, provider] : param.expected)
        ++expected_protocols[provider];
    EXPECT_EQ(by_protocol, expected_protocols);
}

INSTANTIATE_TEST_SUITE_P(
    mixes, sdlc_mix_test,
    ::testing::Values(
        mix_case{"A", {{"requirements", "anthropic"}, {"design", "anthropic"}, {"implement", "anthropic"},
                       {"test_plan", "openai"}, {"review", "anthropic"}, {"docs", "openai"}}},
        mix_case{"B", {{"requirements", "anthropic"}, {"design", "anthropic"}, {"implement", "anthropic"},
                       {"test_plan", "anthropic"}, {"review", "anthropic"}, {"docs", "anthropic"}}},
        mix_case{"C", {{"requirements", "anthropic"}, {"design", "anthropic"}, {"implement", "openai"},
                       {"test_plan", "openai"}, {"review", "anthropic"}, {"docs", "gemini"}}},
        mix_case{"D", {{"requirements", "openai"}, {"design", "openai"}, {"implement", "openai"},
                       {"test_plan", "openai"}, {"review", "openai"}, {"docs", "openai"}}},
        mix_case{"E", {{"requirements", "gemini"}, {"design", "gemini"}, {"implement", "openai"},
                       {"test_plan", "openai"}, {"review", "gemini"}, {"docs", "gemini"}}}),
    [](const auto& param_info) { return param_info.param.mix; });

}  // namespace
}  // namespace ep::cli
