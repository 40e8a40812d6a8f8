// list_models through the real transport against the emulator: each protocol's list shape,
// paging, catalogue marking for `ep-run --models`, and the errors (unavailable, no endpoint,
// refused connection).
#include <ep/emulator/emulator.hpp>
#include <ep/providers/list_models.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
namespace emu = ep::emulator;
namespace pv = ep::providers;
using namespace std::chrono_literals;

class list_models_test : public ::testing::Test
{
protected:
    void SetUp() override
    {
        emu::emulator_config cfg;
        cfg.zero_latency = true;
        emulator_ = std::make_unique<emu::emulator>(cfg);
        emulator_->start();
    }
    void TearDown() override { emulator_->stop(); }

    pv::provider_config config(const std::string& type, std::string base_url) const
    {
        pv::provider_config cfg;
        cfg.name = type;
        cfg.type = type;
        cfg.base_url = std::move(base_url);
        cfg.api_key = "test-key-1234";
        cfg.available = true;
        cfg.timeouts.connect = 2s;
        cfg.timeouts.first_byte = 2s;
        cfg.timeouts.idle = 2s;
        cfg.timeouts.total = 10s;
        return cfg;
    }

    struct outcome
    {
        boost::system::result<std::vector<pv::listed_model>> result = boost::system::error_code{};
        pv::diagnostics diag;
    };

    outcome list(const pv::provider_config& cfg, int page_size = 1000)
    {
        pv::list_models_options opts;
        opts.transport.timeouts = cfg.timeouts;
        opts.page_size = page_size;
        outcome out;
        std::exception_ptr error;
        bool done = false;
        asio::co_spawn(ctx_, pv::list_models(ctx_.get_executor(), cfg, opts, out.diag),
                       [&](std::exception_ptr e, boost::system::result<std::vector<pv::listed_model>> r) {
                           error = e;
                           out.result = std::move(r);
                           done = true;
                       });
        ctx_.restart();
        ctx_.run_for(15s);
        if (error)
            std::rethrow_exception(error);
        EXPECT_TRUE(done);
        return out;
    }

    static std::vector<std::string> ids(const std::vector<pv::listed_model>& models)
    {
        std::vector<std::string> out;
        for (const auto& m : models)
            out.push_back(m.id);
        return out;
    }

    asio::io_context ctx_;
    std::unique_ptr<emu::emulator> emulator_;
};

TEST_F(list_models_test, openai_compatible_get_models)
{
    auto r = list(config("openai", emulator_->openai_base_url()));
    ASSERT_TRUE(r.result.has_value()) << r.diag.to_string();
    EXPECT_EQ(ids(*r.result), (std::vector<std::string>{"gpt-6.2-sol", "gpt-6-luna", "emulator-echo-1"}));
    EXPECT_FALSE(r.result->front().context_window.has_value());  // OpenAI's list has no limits
}

TEST_F(list_models_test, anthropic_v1_models_with_limits_and_paging)
{
    const auto cfg = config("anthropic", emulator_->anthropic_base_url());
    auto whole = list(cfg);
    ASSERT_TRUE(whole.result.has_value()) << whole.diag.to_string();
    EXPECT_EQ(ids(*whole.result), (std::vector<std::string>{"claude-sonnet-5-5", "claude-haiku-5-5", "emulator-echo-1"}));
    EXPECT_EQ(whole.result->front().context_window, 1000000);
    EXPECT_EQ(whole.result->front().max_output_tokens, 128000);
    EXPECT_EQ(whole.result->front().display_name, "Claude Sonnet 5.5");
    // One model per page: the cursor (after_id) is followed to the end.
    auto paged = list(cfg, 1);
    ASSERT_TRUE(paged.result.has_value()) << paged.diag.to_string();
    EXPECT_EQ(ids(*paged.result), ids(*whole.result));
}

TEST_F(list_models_test, gemini_models_list_with_page_tokens)
{
    const auto cfg = config("gemini", emulator_->gemini_base_url());
    auto paged = list(cfg, 2);
    ASSERT_TRUE(paged.result.has_value()) << paged.diag.to_string();
    EXPECT_EQ(ids(*paged.result), (std::vector<std::string>{"gemini-4-neon", "gemini-3.8-flash", "emulator-echo-1"}));
    EXPECT_EQ(paged.result->front().context_window, 1048576);
    EXPECT_EQ(paged.result->front().max_output_tokens, 65536);
}

TEST_F(list_models_test, rows_mark_what_the_catalogue_lists)
{
    auto cfg = config("openai", emulator_->openai_base_url());
    pv::model_info sol;
    sol.id = "gpt-6.2-sol";
    sol.context_window = 1050000;
    pv::model_info retired;
    retired.id = "gpt-3.5-turbo";
    cfg.models = {sol, retired};
    auto r = list(cfg);
    ASSERT_TRUE(r.result.has_value()) << r.diag.to_string();
    const auto rows = pv::catalogue_rows(*r.result, cfg);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].id, "gpt-6.2-sol");
    EXPECT_TRUE(rows[0].in_catalogue);
    EXPECT_EQ(rows[0].context_window, 1050000);
    EXPECT_FALSE(rows[2].in_catalogue);
    EXPECT_EQ(rows[2].id, "emulator-echo-1");
    EXPECT_EQ(pv::catalogue_models_not_listed(*r.result, cfg), (std::vector<std::string>{"gpt-3.5-turbo"}));

    // With the provider's own limits (Anthropic), an unlisted row shows them.
    auto anthropic = list(config("anthropic", emulator_->anthropic_base_url()));
    ASSERT_TRUE(anthropic.result.has_value());
    const auto arows = pv::catalogue_rows(*anthropic.result, config("anthropic", ""));
    EXPECT_FALSE(arows[2].in_catalogue);
    EXPECT_EQ(arows[2].context_window, 32000);
}

TEST_F(list_models_test, errors_are_named)
{
    auto cli = config("claude_agent", "");
    auto r = list(cli);
    EXPECT_EQ(r.result.error(), pv::provider_errc::invalid_request);
    EXPECT_NE(r.diag.message.find("no model list endpoint"), std::string::npos);

    auto off = config("openai", emulator_->openai_base_url());
    off.available = false;
    EXPECT_EQ(list(off).result.error(), pv::provider_errc::unavailable);

    // A port nobody listens on (another emulator's, after it stopped).
    emu::emulator_config ecfg;
    ecfg.zero_latency = true;
    emu::emulator gone(ecfg);
    gone.start();
    const auto url = gone.openai_base_url();
    gone.stop();
    auto refused = list(config("openai", url));
    EXPECT_EQ(refused.result.error(), pv::provider_errc::connect_failed) << refused.diag.to_string();
}

TEST_F(list_models_test, a_wrong_base_url_is_a_classified_http_error)
{
    // The emulator answers an unknown path with an OpenAI error object (404): a base URL
    // pointing at the wrong place gives a classified HTTP error, not an empty list.
    auto cfg = config("openai", emulator_->base_url() + "/nothing-here");
    auto r = list(cfg);
    ASSERT_FALSE(r.result.has_value());
    EXPECT_EQ(r.result.error(), pv::provider_errc::invalid_request) << r.diag.to_string();
    EXPECT_EQ(r.diag.http_status, 404);
}

}  // namespace
