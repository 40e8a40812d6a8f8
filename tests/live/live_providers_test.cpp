// Opt-in (-DEP_LIVE_PROVIDER_TESTS=ON): one small real call per provider whose key is set
// (EP_OPENAI_API_KEY, EP_ANTHROPIC_API_KEY, EP_GEMINI_API_KEY); the others are skipped. These
// are the only tests that leave loopback; CI never builds them.
#include <ep/providers/factory.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
namespace pv = ep::providers;
using namespace std::chrono_literals;

struct live_case
{
    const char* type;
    const char* base_url;
    const char* key_env;
    const char* model_env;  // overrides the default model
    const char* model;
};

class live_provider : public ::testing::TestWithParam<live_case>
{
};

TEST_P(live_provider, short_streamed_answer_with_usage)
{
    const auto& c = GetParam();
    const char* key = std::getenv(c.key_env);
    if (!key || !*key)
        GTEST_SKIP() << c.key_env << " is not set";
    const char* model_override = std::getenv(c.model_env);
    const std::string model = model_override && *model_override ? model_override : c.model;

    pv::provider_config cfg;
    cfg.name = c.type;
    cfg.type = c.type;
    cfg.base_url = c.base_url;
    cfg.api_key = key;
    cfg.available = true;
    cfg.use_max_completion_tokens = std::string(c.type) == "openai";
    pv::model_info m;
    m.id = model;
    cfg.models.push_back(m);

    asio::io_context ctx;
    auto provider = pv::make_provider(ctx.get_executor(), cfg);
    pv::chat_request req;
    req.model = model;
    req.system = "Answer in one short sentence.";
    req.messages.push_back(pv::message::user_text("What is a DAG?"));
    req.max_tokens = 64;
    std::optional<pv::call_result> out;
    asio::co_spawn(ctx, pv::complete(*provider, req), [&](std::exception_ptr e, pv::call_result r) {
        if (!e)
            out = std::move(r);
    });
    ctx.run_for(120s);
    ASSERT_TRUE(out);
    ASSERT_TRUE(out->status.ok()) << out->status.diag.to_string();
    EXPECT_FALSE(out->response.text.empty());
    EXPECT_GT(out->response.totals.input_tokens, 0);
    EXPECT_GT(out->response.totals.output_tokens, 0);
}

std::string live_name(const ::testing::TestParamInfo<live_case>& info)
{
    return info.param.type;
}

INSTANTIATE_TEST_SUITE_P(
    providers, live_provider,
    ::testing::Values(
        live_case{"openai", "https://api.openai.com/v1", "EP_OPENAI_API_KEY", "EP_LIVE_OPENAI_MODEL", "gpt-4.1-mini"},
        live_case{"anthropic", "https://api.anthropic.com", "EP_ANTHROPIC_API_KEY", "EP_LIVE_ANTHROPIC_MODEL",
                  "claude-haiku-4-5"},
        live_case{"gemini", "https://generativelanguage.googleapis.com/v1beta", "EP_GEMINI_API_KEY",
                  "EP_LIVE_GEMINI_MODEL", "gemini-2.5-flash"}),
    live_name);

}  // namespace
