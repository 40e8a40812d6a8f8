// The shipped sdlc workflow under each mix A–E against the in-process emulator, through the
// real HTTP/SSE transport: which provider served each phase, from the phase records and from
// the emulator's request log.
#include "io_fixture.hpp"

#include <ep/emulator/emulator.hpp>
#include <ep/engine/loader.hpp>
#include <ep/engine/run/commands.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/engine/run/executor.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>
#include <ep/providers/factory.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace ep::engine {
namespace {

namespace ps = ep::persistence;
using namespace std::chrono_literals;

std::filesystem::path workflows_dir() { return std::filesystem::path(EP_SOURCE_DIR) / "workflows"; }

std::string read_text(const std::filesystem::path& p)
{
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

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

    const auto path = workflows_dir() / "sdlc.yaml";
    diagnostics diag;
    auto spec = load_workflow_file(path, diag);
    ASSERT_TRUE(spec);
    policy_options popts;
    popts.workflows_dir = workflows_dir();
    popts.config = param.mix;
    popts.workflow = &*spec;
    auto pol = load_policy(popts, env, diag);
    ASSERT_TRUE(pol) << (diag.items().empty() ? "" : diag.items().front().str());
    auto graph = compile(*spec, &*pol, diag);
    ASSERT_TRUE(graph);

    provider_map providers;
    for (const auto& [name, cfg] : pol->providers)
        if (cfg.available && cfg.type != "claude_agent")
            providers[name] = providers::make_provider(ctx.get_executor(), cfg);

    auto opened = ps::sqlite_store::open(dir_ / "runs.db");
    ASSERT_TRUE(opened);
    ps::async_store store(std::shared_ptr<ps::store>(std::move(*opened)));
    failover_executor failover;
    const policy& p = *pol;
    workflow_executor exec(store, p, [&](const phase_spec& ph, std::int64_t tokens) { return build_candidates(ph, p, providers, tokens); },
                           failover);
    run_request req;
    req.spec = &*spec;
    req.graph = &*graph;
    req.definition = read_text(path);
    req.inputs = {{"task", "a URL shortener"}, {"audience", "developers"}};
    req.mix = param.mix;
    collecting_sink sink;
    auto out = run(exec.run(req, sink), 60s);
    emu.stop();
    ASSERT_TRUE(out) << out.error().to_string();
    ASSERT_EQ(out->status, ps::run_status::completed) << out->error;

    for (const auto& [phase, provider] : param.expected)
    {
        auto rec = store.sync().get_phase(out->run_id, phase);
        ASSERT_TRUE(rec) << phase;
        EXPECT_EQ(rec->provider, provider) << "mix " << param.mix << ", phase " << phase;
        EXPECT_GT(rec->output_tokens, 0);
        EXPECT_FALSE(rec->output_text.empty());
    }
    auto req_rec = store.sync().get_phase(out->run_id, "requirements").value();
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
}  // namespace ep::engine
