// claude_agent with tests/data/fake_claude/claude: success, is_error, non-zero exit, missing
// CLI, and the child killed on cancel and on the total timeout.

#include "io_fixture.hpp"

#include <ep/common/env.hpp>
#include <ep/providers/factory.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <signal.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ep::providers::call_result;
using ep::providers::chat_request;
using ep::providers::provider_config;
using ep::providers::provider_errc;

const std::string fake_cli = std::string(EP_TESTDATA_DIR) + "/fake_claude/claude";

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class claude_agent_test : public ep::test::io_fixture
{
protected:
    std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                 ("ep-claude-test-" + std::to_string(::getpid()));

    void SetUp() override
    {
        std::filesystem::create_directories(dir_);
        ::unsetenv("FAKE_CLAUDE_MODE");
        ::unsetenv("FAKE_CLAUDE_ARGS_FILE");
        ::unsetenv("FAKE_CLAUDE_ENV_FILE");
    }
    void TearDown() override
    {
        ::unsetenv("FAKE_CLAUDE_MODE");
        ::unsetenv("FAKE_CLAUDE_ARGS_FILE");
        ::unsetenv("FAKE_CLAUDE_ENV_FILE");
        ::unsetenv("CLAUDECODE");
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        io_fixture::TearDown();
    }

    static provider_config cfg(std::string path = fake_cli)
    {
        provider_config c;
        c.name = "claude_code";
        c.type = "claude_agent";
        c.cli_path = std::move(path);
        ep::providers::model_info model;
        model.id = "sonnet";
        c.models.push_back(model);
        c.timeouts.total = 10s;
        return c;
    }

    static chat_request req()
    {
        chat_request r;
        r.model = "sonnet";
        r.system = "You are terse.";
        r.messages.push_back(ep::providers::message::user_text("Say hello"));
        return r;
    }

    call_result call(const provider_config& c)
    {
        auto p = ep::providers::make_provider(ctx.get_executor(), c);
        return run(ep::providers::stream_call(*p, req(), nullptr));
    }
};

TEST_F(claude_agent_test, success_streams_text_usage_and_cost)
{
    ::setenv("FAKE_CLAUDE_ARGS_FILE", (dir_ / "args").c_str(), 1);
    ::setenv("FAKE_CLAUDE_ENV_FILE", (dir_ / "env").c_str(), 1);
    ::setenv("CLAUDECODE", "1", 1);
    auto res = call(cfg());
    ASSERT_TRUE(res.status.ok()) << res.status.ec.message() << " " << res.status.diag.to_string();
    EXPECT_EQ(res.response.text, "Hello from fake claude");
    EXPECT_EQ(res.response.totals.output_tokens, 5);
    ASSERT_TRUE(res.response.totals.cost_usd);
    EXPECT_NEAR(*res.response.totals.cost_usd, 0.0123, 1e-9);

    const std::string args = read_file(dir_ / "args");
    for (const char* expected : {"-p\n", "--output-format\n", "stream-json\n", "--verbose\n", "sonnet\n"})
        EXPECT_NE(args.find(expected), std::string::npos) << expected << " missing from\n" << args;
    const std::string env = read_file(dir_ / "env");
    EXPECT_NE(env.find("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"), std::string::npos);
    EXPECT_EQ(env.find("CLAUDECODE="), std::string::npos) << "CLAUDECODE must not reach the child";
}

TEST_F(claude_agent_test, ep_secrets_stay_out_of_the_childs_environment)
{
    ::setenv("FAKE_CLAUDE_ENV_FILE", (dir_ / "env").c_str(), 1);
    ::setenv("EP_OPENAI_API_KEY", "sk-must-not-leak-0123456789", 1);
    auto res = call(cfg());
    ::unsetenv("EP_OPENAI_API_KEY");
    ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
    const std::string env = read_file(dir_ / "env");
    EXPECT_EQ(env.find("sk-must-not-leak"), std::string::npos) << "EP_*_API_KEY must not reach the child";
    EXPECT_NE(env.find("PATH="), std::string::npos) << "the rest of the environment is passed on";
}

TEST_F(claude_agent_test, the_cli_comes_from_the_environment_the_provider_was_given)
{
    // The same lookup and environment as the policy loader's: EP_CLAUDE_CLI from an
    // ep::environment (which holds .env values) wins over the configured program name.
    provider_config c = cfg("claude");
    ep::providers::provider_deps deps;
    deps.env = std::make_shared<ep::environment>(
        ep::environment::from_map({{"EP_CLAUDE_CLI", fake_cli}, {"PATH", "/nonexistent"}}));
    auto p = ep::providers::make_provider(ctx.get_executor(), c, deps);
    auto res = run(ep::providers::stream_call(*p, req(), nullptr));
    ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
    EXPECT_EQ(res.response.text, "Hello from fake claude");

    deps.env = std::make_shared<ep::environment>(ep::environment::from_map({{"PATH", "/nonexistent"}}));
    auto missing = ep::providers::make_provider(ctx.get_executor(), c, deps);
    res = run(ep::providers::stream_call(*missing, req(), nullptr));
    EXPECT_EQ(res.status.ec, provider_errc::cli_missing);
    EXPECT_NE(res.status.diag.message.find("EP_CLAUDE_CLI"), std::string::npos) << res.status.diag.message;
}

TEST_F(claude_agent_test, is_error_result_is_a_failure_classified_by_its_api_status)
{
    // is_error:true with subtype "success" and api_error_status 529 (the CLI reports an API failure this way since 2.1.110): the
    // decoder classifies the API status, so the router may retry.
    ::setenv("FAKE_CLAUDE_MODE", "is_error", 1);
    auto res = call(cfg());
    EXPECT_FALSE(res.status.ok());
    EXPECT_EQ(res.status.ec, provider_errc::overloaded) << res.status.ec.message();
    EXPECT_TRUE(ep::providers::is_retryable(res.status.ec));
    EXPECT_NE(res.status.diag.to_string().find("529"), std::string::npos) << res.status.diag.to_string();
}

TEST_F(claude_agent_test, non_zero_exit_is_cli_failed_with_stderr)
{
    ::setenv("FAKE_CLAUDE_MODE", "exit_nonzero", 1);
    auto res = call(cfg());
    EXPECT_EQ(res.status.ec, provider_errc::cli_failed) << res.status.ec.message();
    EXPECT_NE(res.status.diag.message.find("status 3"), std::string::npos) << res.status.diag.message;
    EXPECT_NE(res.status.diag.provider_message.find("requires --verbose"), std::string::npos);
}

TEST_F(claude_agent_test, a_key_the_cli_prints_on_stderr_is_scrubbed)
{
    ::setenv("FAKE_CLAUDE_MODE", "leak_key", 1);
    ::setenv("FAKE_CLAUDE_LEAK", "sk-ant-api03-leaky-key-0123456789", 1);
    auto c = cfg();
    c.api_key = "sk-ant-api03-leaky-key-0123456789";
    auto res = call(c);
    ::unsetenv("FAKE_CLAUDE_LEAK");
    EXPECT_EQ(res.status.ec, provider_errc::cli_failed);
    const auto text = res.status.diag.to_string();
    EXPECT_NE(text.find("Invalid API key: [REDACTED]"), std::string::npos) << text;
    EXPECT_EQ(text.find("0123456789"), std::string::npos) << text;
}

TEST_F(claude_agent_test, output_without_result_is_stream_truncated)
{
    ::setenv("FAKE_CLAUDE_MODE", "no_result", 1);
    auto res = call(cfg());
    EXPECT_EQ(res.status.ec, provider_errc::stream_truncated) << res.status.ec.message();
}

TEST_F(claude_agent_test, missing_cli_is_cli_missing)
{
    auto res = call(cfg((dir_ / "no-such-claude").string()));
    EXPECT_EQ(res.status.ec, provider_errc::cli_missing) << res.status.ec.message();
    EXPECT_NE(res.status.diag.message.find("no-such-claude"), std::string::npos) << res.status.diag.message;
}

TEST_F(claude_agent_test, total_timeout_kills_the_child)
{
    ::setenv("FAKE_CLAUDE_MODE", "hang", 1);
    auto c = cfg();
    c.timeouts.total = 300ms;
    const auto start = std::chrono::steady_clock::now();
    auto res = call(c);
    EXPECT_EQ(res.status.ec, provider_errc::total_timeout) << res.status.ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(claude_agent_test, a_silent_cli_hits_the_first_byte_timeout_and_is_killed)
{
    ::setenv("FAKE_CLAUDE_MODE", "silent", 1);
    auto c = cfg();
    c.timeouts.first_byte = 300ms;
    const auto start = std::chrono::steady_clock::now();
    auto res = call(c);
    EXPECT_EQ(res.status.ec, provider_errc::first_byte_timeout) << res.status.ec.message();
    EXPECT_NE(res.status.diag.message.find("300ms"), std::string::npos) << res.status.diag.message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the silent child (sleep 30) must be killed";
}

TEST_F(claude_agent_test, a_cli_that_goes_quiet_hits_the_idle_timeout_and_is_killed)
{
    ::setenv("FAKE_CLAUDE_MODE", "hang", 1);  // prints its init line, then nothing
    auto c = cfg();
    c.timeouts.idle = 300ms;
    const auto start = std::chrono::steady_clock::now();
    auto res = call(c);
    EXPECT_EQ(res.status.ec, provider_errc::idle_timeout) << res.status.ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the hanging child (sleep 30) must be killed";
}

TEST_F(claude_agent_test, a_cli_that_prints_but_brings_no_content_hits_the_first_token_timeout)
{
    ::setenv("FAKE_CLAUDE_MODE", "slow_content", 1);  // init line at once, content after 3 s
    auto c = cfg();
    c.timeouts.first_byte = 5s;
    c.timeouts.idle = 5s;
    c.timeouts.first_token = 300ms;
    const auto start = std::chrono::steady_clock::now();
    auto res = call(c);
    EXPECT_EQ(res.status.ec, provider_errc::first_token_timeout) << res.status.ec.message();
    EXPECT_NE(res.status.diag.message.find("300ms"), std::string::npos) << res.status.diag.message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms) << "the waiting child must be killed";

    c.timeouts.first_token = 10s;
    res = call(c);
    EXPECT_TRUE(res.status.ok()) << res.status.diag.to_string();
}

TEST_F(claude_agent_test, cancel_kills_the_child)
{
    ::setenv("FAKE_CLAUDE_MODE", "hang", 1);
    auto p = ep::providers::make_provider(ctx.get_executor(), cfg());
    asio::cancellation_signal cancel;
    asio::steady_timer timer(ctx, 300ms);
    timer.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
    std::optional<call_result> result;
    const chat_request request = req();  // stream_call keeps a reference: it must outlive the call
    asio::co_spawn(ctx, ep::providers::stream_call(*p, request, nullptr),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, call_result r) {
                       ASSERT_FALSE(e);
                       result = std::move(r);
                   }));
    const auto start = std::chrono::steady_clock::now();
    ctx.run_for(10s);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status.ec, asio::error::operation_aborted) << result->status.ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the hanging child (sleep 30) must be killed";
}

}  // namespace
