// Opt-in (-DEP_CLAUDE_CLI_TESTS=ON): the REAL Claude Code CLI, installed from npm into the build
// tree, driven by the claude_agent adapter and pointed at the emulator with ANTHROPIC_BASE_URL.
// Proves that what EP parses is what the real CLI prints, with no account and no traffic
// beyond loopback (CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 is set by the adapter).
#include <ep/emulator/emulator.hpp>
#include <ep/providers/factory.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>

namespace {

namespace asio = boost::asio;
namespace emu = ep::emulator;
namespace pv = ep::providers;
using namespace std::chrono_literals;

TEST(claude_cli_emulator, real_cli_streams_an_emulated_answer_with_usage_and_cost)
{
    ASSERT_TRUE(std::filesystem::exists(EP_CLAUDE_CLI_PATH)) << EP_CLAUDE_CLI_PATH << " (build claude_cli_install)";
    emu::emulator_config ecfg;
    ecfg.zero_latency = true;
    emu::emulator server(ecfg);
    server.start();

    // A private HOME so the CLI neither reads nor writes the user's configuration.
    const auto home = std::filesystem::temp_directory_path() / ("ep-claude-home-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(home);
    ::setenv("HOME", home.c_str(), 1);
    ::setenv("ANTHROPIC_BASE_URL", server.anthropic_base_url().c_str(), 1);
    ::setenv("ANTHROPIC_API_KEY", "emulated-key", 1);

    pv::provider_config cfg;
    cfg.name = "claude_code";
    cfg.type = "claude_agent";
    cfg.cli_path = EP_CLAUDE_CLI_PATH;
    cfg.cli_extra_args = {"--tools", ""};  // no built-in tools: the answer stays text
    cfg.available = true;
    pv::model_info m;
    m.id = "sonnet";
    cfg.models.push_back(m);
    cfg.timeouts.total = 120s;

    asio::io_context ctx;
    auto provider = pv::make_provider(ctx.get_executor(), cfg);
    pv::chat_request req;
    req.model = "sonnet";
    req.system = "You are a senior software architect.";
    req.messages.push_back(pv::message::user_text("Design a rate limiter in two sentences."));
    std::optional<pv::call_result> out;
    asio::co_spawn(ctx, pv::complete(*provider, req), [&](std::exception_ptr e, pv::call_result r) {
        if (!e)
            out = std::move(r);
    });
    ctx.run_for(150s);
    server.stop();
    std::error_code ec;
    std::filesystem::remove_all(home, ec);

    ASSERT_TRUE(out);
    ASSERT_TRUE(out->status.ok()) << out->status.diag.to_string();
    EXPECT_NE(out->response.text.find("[emulated"), std::string::npos) << out->response.text;
    EXPECT_GT(out->response.totals.input_tokens, 0);
    EXPECT_GT(out->response.totals.output_tokens, 0);
    ASSERT_TRUE(out->response.totals.cost_usd.has_value());
    EXPECT_GT(*out->response.totals.cost_usd, 0.0);
    std::size_t anthropic_requests = 0;
    for (const auto& r : server.requests())
        anthropic_requests += r.protocol == "anthropic";
    EXPECT_GE(anthropic_requests, 1u);
}

}  // namespace
