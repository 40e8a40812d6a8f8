// Each HTTP adapter through the real transport against the fake server: streams, error
// classification, truncation, keep-alive across calls, cancellation through stream_call.

#include "fake_llm_server.hpp"
#include "io_fixture.hpp"

#include <ep/providers/factory.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using ep::providers::call_result;
using ep::providers::chat_request;
using ep::providers::provider_config;
using ep::providers::provider_errc;
using ep::test::fake_response;

provider_config config_for(const std::string& type, const std::string& base_url)
{
    provider_config cfg;
    cfg.name = type + "-test";
    cfg.type = type;
    cfg.base_url = base_url;
    cfg.api_key = "sk-test-secret-1234";
    ep::providers::model_info model;
    model.id = "test-model";
    cfg.models.push_back(model);
    cfg.timeouts.connect = 2s;
    cfg.timeouts.first_byte = 2s;
    cfg.timeouts.idle = 2s;
    cfg.timeouts.total = 10s;
    cfg.available = true;
    return cfg;
}

/// No pool unless given, and no proxy from the environment of whoever runs the tests.
ep::providers::provider_deps direct(std::shared_ptr<ep::providers::connection_pool> pool = nullptr)
{
    ep::providers::provider_deps deps;
    deps.pool = std::move(pool);
    deps.proxy = ep::providers::proxy_settings{};
    return deps;
}

chat_request hello()
{
    chat_request req;
    req.model = "test-model";
    req.system = "Be brief.";
    req.messages.push_back(ep::providers::message::user_text("Say hello"));
    req.max_tokens = 50;
    return req;
}

const std::vector<std::string> openai_stream = {
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})",
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"content":", world"},"finish_reason":null}]})",
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})",
    "data: [DONE]",
};

const std::vector<std::string> anthropic_stream = {
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"test-model\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
    "event: ping\ndata: {\"type\": \"ping\"}",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello, world\"}}",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}",
};

const std::vector<std::string> gemini_stream = {
    R"(data: {"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}})",
    R"(data: {"candidates":[{"content":{"parts":[{"text":", world"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":3,"totalTokenCount":12}})",
};

class adapters_test : public ep::test::io_fixture
{
protected:
    call_result call(const provider_config& cfg, const chat_request& req, std::vector<std::string>* texts = nullptr,
                     std::shared_ptr<ep::providers::connection_pool> pool = nullptr)
    {
        auto p = ep::providers::make_provider(ctx.get_executor(), cfg, direct(pool));
        return run(ep::providers::stream_call(*p, req, [texts](const ep::providers::stream_event& ev) {
            if (auto* t = std::get_if<ep::providers::text_delta_event>(&ev); t && texts)
                texts->push_back(t->text);
        }));
    }
};

struct protocol_case
{
    std::string type;
    std::string base_path;
    std::vector<std::string> events;
    std::string expected_target_prefix;
};

class adapter_stream_test : public adapters_test, public ::testing::WithParamInterface<protocol_case>
{
};

TEST_P(adapter_stream_test, streams_text_usage_and_finish)
{
    const auto& pc = GetParam();
    ep::test::fake_llm_server server;
    auto r = fake_response::sse(pc.events);
    r.chunk_delay = 5ms;
    server.enqueue(r);

    std::vector<std::string> texts;
    auto res = call(config_for(pc.type, server.base_url(pc.base_path)), hello(), &texts);
    ASSERT_TRUE(res.status.ok()) << res.status.ec.message() << " " << res.status.diag.to_string();
    EXPECT_EQ(res.response.text, "Hello, world");
    EXPECT_GE(texts.size(), 1u);
    EXPECT_EQ(res.response.reason, ep::providers::finish_reason::stop);
    EXPECT_EQ(res.response.totals.input_tokens, 9);
    EXPECT_EQ(res.response.totals.output_tokens, 3);

    ASSERT_EQ(server.requests().size(), 1u);
    const auto requests = server.requests();
    const auto& sent = requests[0];
    EXPECT_EQ(sent.method, "POST");
    EXPECT_EQ(sent.target.rfind(pc.expected_target_prefix, 0), 0u) << sent.target;
    EXPECT_NE(sent.body.find("Say hello"), std::string::npos);
}

TEST_P(adapter_stream_test, body_without_terminal_event_is_stream_truncated)
{
    const auto& pc = GetParam();
    ep::test::fake_llm_server server;
    // Only the first event, then a clean end of body: never a success.
    server.enqueue(fake_response::sse({pc.events.front()}));
    auto res = call(config_for(pc.type, server.base_url(pc.base_path)), hello());
    EXPECT_EQ(res.status.ec, provider_errc::stream_truncated) << res.status.ec.message();
}

TEST_P(adapter_stream_test, connection_cut_mid_stream_is_stream_truncated)
{
    const auto& pc = GetParam();
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({pc.events.front()});
    r.end = fake_response::ending::close;
    server.enqueue(r);
    auto res = call(config_for(pc.type, server.base_url(pc.base_path)), hello());
    EXPECT_EQ(res.status.ec, provider_errc::stream_truncated) << res.status.ec.message();
}

TEST_P(adapter_stream_test, keep_alive_across_calls)
{
    const auto& pc = GetParam();
    ep::test::fake_llm_server server;
    server.set_default(fake_response::sse(pc.events));
    auto pool = std::make_shared<ep::providers::connection_pool>();
    auto cfg = config_for(pc.type, server.base_url(pc.base_path));
    for (int i = 0; i < 3; ++i)
    {
        auto res = call(cfg, hello(), nullptr, pool);
        ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
    }
    EXPECT_EQ(server.requests().size(), 3u);
    EXPECT_EQ(server.connections_accepted(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    protocols, adapter_stream_test,
    ::testing::Values(protocol_case{"openai", "/v1", openai_stream, "/v1/chat/completions"},
                      protocol_case{"anthropic", "", anthropic_stream, "/v1/messages"},
                      protocol_case{"gemini", "/v1beta", gemini_stream, "/v1beta/models/test-model:streamGenerateContent"}),
    [](const auto& param_info) { return param_info.param.type; });

TEST_F(adapters_test, http_429_with_retry_after_is_rate_limited)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::json_error(
        429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})",
        {{"Retry-After", "7"}}));
    auto res = call(config_for("openai", server.base_url("/v1")), hello());
    EXPECT_EQ(res.status.ec, provider_errc::rate_limited) << res.status.ec.message();
    ASSERT_TRUE(res.status.diag.retry_after);
    EXPECT_EQ(*res.status.diag.retry_after, 7000ms);
    EXPECT_EQ(res.status.diag.http_status, 429);
    EXPECT_TRUE(ep::providers::is_retryable(res.status.ec));
}

TEST_F(adapters_test, http_401_is_auth_failed_and_keeps_the_key_out)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::json_error(
        401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"));
    auto res = call(config_for("anthropic", server.base_url()), hello());
    EXPECT_EQ(res.status.ec, provider_errc::auth_failed) << res.status.ec.message();
    EXPECT_EQ(res.status.diag.provider_message, "invalid x-api-key");
    EXPECT_FALSE(ep::providers::is_retryable(res.status.ec));
    EXPECT_EQ(res.status.diag.to_string().find("sk-test-secret"), std::string::npos);
}

TEST_F(adapters_test, a_key_echoed_by_the_server_never_reaches_the_diagnostics)
{
    // Proxies and compatible servers were seen echoing the key they got, whole or masked down
    // to its last characters: in an error body, in an in-stream error, in garbage.
    const std::string key = "sk-test-secret-1234";
    const std::string tail = key.substr(key.size() - 12);
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::json_error(
        401, R"({"error":{"message":"Incorrect API key provided: sk-test-secret-1234.","type":"invalid_request_error","code":"invalid_api_key"}})"));
    server.enqueue(fake_response::json_error(403, R"({"error":{"message":"key sk-...)" + tail +
                                                      R"( is not allowed","type":"sk-test-secret-1234"}})"));
    server.enqueue(fake_response::json_error(502, "<html><title>bad gateway for sk-test-secret-1234</title></html>"));
    server.enqueue(fake_response::sse(
        {openai_stream[0], R"(data: {"error":{"message":"upstream refused sk-test-secret-1234","type":"server_error"}})"}));
    server.enqueue(fake_response::sse({"data: {\"oops\": \"sk-test-secret-1234"}));
    for (int i = 0; i < 5; ++i)
    {
        SCOPED_TRACE(i);
        auto res = call(config_for("openai", server.base_url("/v1")), hello());
        ASSERT_FALSE(res.status.ok());
        const auto text = res.status.diag.to_string();
        EXPECT_EQ(text.find(key), std::string::npos) << text;
        EXPECT_EQ(text.find(tail), std::string::npos) << text;
        EXPECT_NE(text.find("[REDACTED]"), std::string::npos) << text;
    }
}

TEST_F(adapters_test, http_500_is_retryable)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::json_error(500, R"({"error":{"code":500,"message":"internal","status":"INTERNAL"}})"));
    auto res = call(config_for("gemini", server.base_url("/v1beta")), hello());
    EXPECT_FALSE(res.status.ok());
    EXPECT_EQ(res.status.diag.http_status, 500);
    EXPECT_TRUE(ep::providers::is_retryable(res.status.ec)) << res.status.ec.message();
}

TEST_F(adapters_test, in_stream_overload_is_an_error_after_the_text)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::sse(
        {anthropic_stream[0], anthropic_stream[1], anthropic_stream[3],
         "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"}));
    auto res = call(config_for("anthropic", server.base_url()), hello());
    EXPECT_EQ(res.status.ec, provider_errc::overloaded) << res.status.ec.message();
    EXPECT_EQ(res.response.text, "Hello, world");  // what arrived before the error
}

TEST_F(adapters_test, idle_timeout_through_an_adapter)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({openai_stream[0], openai_stream[1]});
    r.end = fake_response::ending::stall;
    server.enqueue(r);
    auto cfg = config_for("openai", server.base_url("/v1"));
    cfg.timeouts.idle = 200ms;
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::idle_timeout) << res.status.ec.message();
    EXPECT_EQ(res.response.text, "Hello");
}

// Headers at once, then keep-alives (comments, a role chunk with empty content, Anthropic's
// message_start and pings) every 100 ms but no content: the first-token limit, not idle.
TEST_F(adapters_test, first_token_timeout_is_not_reset_by_keep_alives)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> events = {openai_stream[0]};  // {"role":"assistant","content":""}
    for (int i = 0; i < 8; ++i)
        events.push_back(": keep-alive");
    events.insert(events.end(), openai_stream.begin() + 1, openai_stream.end());  // content, finish, [DONE]
    auto r = fake_response::sse(events);
    r.chunk_delay = 100ms;
    server.set_default(r);
    auto cfg = config_for("openai", server.base_url("/v1"));
    cfg.timeouts.idle = 2s;
    cfg.timeouts.first_token = 400ms;
    const auto start = std::chrono::steady_clock::now();
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::first_token_timeout) << res.status.diag.to_string();
    EXPECT_NE(res.status.diag.message.find("400 ms"), std::string::npos) << res.status.diag.message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms + 400ms);
    EXPECT_TRUE(ep::providers::is_retryable(res.status.ec));

    // The same stream within a larger limit: the content arrives and the call succeeds.
    cfg.timeouts.first_token = 5s;
    res = call(cfg, hello());
    ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
    EXPECT_EQ(res.response.text, "Hello, world");

    // A per-call limit (a phase's) wins over the provider's.
    auto req = hello();
    req.first_token_timeout = 300ms;
    res = call(cfg, req);
    EXPECT_EQ(res.status.ec, provider_errc::first_token_timeout) << res.status.diag.to_string();
}

TEST_F(adapters_test, first_token_counts_a_content_block_start_not_message_start_or_pings)
{
    ep::test::fake_llm_server server;
    auto late = fake_response::sse({anthropic_stream[0], anthropic_stream[2], anthropic_stream[2], anthropic_stream[2],
                                    anthropic_stream[1], anthropic_stream[3], anthropic_stream[4], anthropic_stream[5],
                                    anthropic_stream[6]});
    late.chunk_delay = 120ms;
    server.enqueue(late);
    auto cfg = config_for("anthropic", server.base_url());
    cfg.timeouts.first_token = 300ms;
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::first_token_timeout) << res.status.diag.to_string();

    // The block starts in time; its text may come later (idle bounds that).
    auto slow_text = fake_response::sse({anthropic_stream[0], anthropic_stream[1], anthropic_stream[2],
                                         anthropic_stream[2], anthropic_stream[2], anthropic_stream[3],
                                         anthropic_stream[4], anthropic_stream[5], anthropic_stream[6]});
    slow_text.chunk_delay = 100ms;
    server.enqueue(slow_text);
    res = call(cfg, hello());
    ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
}

TEST_F(adapters_test, first_token_also_bounds_a_late_header)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse(openai_stream);
    r.first_byte_delay = 1500ms;
    server.enqueue(r);
    auto cfg = config_for("openai", server.base_url("/v1"));
    cfg.timeouts.first_byte = 5s;
    cfg.timeouts.first_token = 300ms;
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::first_token_timeout) << res.status.diag.to_string();
}

TEST_F(adapters_test, total_timeout_through_an_adapter)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> slow(40, openai_stream[1]);
    auto r = fake_response::sse(slow);
    r.chunk_delay = 50ms;
    server.enqueue(r);
    auto cfg = config_for("openai", server.base_url("/v1"));
    cfg.timeouts.total = 300ms;
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::total_timeout) << res.status.ec.message();
    EXPECT_FALSE(res.response.text.empty());
}

TEST_F(adapters_test, first_byte_timeout_through_an_adapter)
{
    ep::test::fake_llm_server server;
    fake_response r;
    r.never_respond = true;
    server.enqueue(r);
    auto cfg = config_for("gemini", server.base_url("/v1beta"));
    cfg.timeouts.first_byte = 200ms;
    auto res = call(cfg, hello());
    EXPECT_EQ(res.status.ec, provider_errc::first_byte_timeout) << res.status.ec.message();
}

TEST_F(adapters_test, cancelling_stream_call_mid_stream_aborts_the_producer)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({openai_stream[0], openai_stream[1]});
    r.end = fake_response::ending::stall;
    server.enqueue(r);
    auto p = ep::providers::make_provider(ctx.get_executor(), config_for("openai", server.base_url("/v1")),
                                          direct());

    asio::cancellation_signal cancel;
    std::optional<call_result> result;
    int events = 0;
    const chat_request request = hello();  // stream_call keeps a reference: it must outlive the call
    asio::co_spawn(ctx,
                   ep::providers::stream_call(*p, request,
                                              [&](const ep::providers::stream_event& ev) {
                                                  ++events;
                                                  // Cancel once text has arrived: mid-stream.
                                                  if (std::holds_alternative<ep::providers::text_delta_event>(ev))
                                                      cancel.emit(asio::cancellation_type::terminal);
                                              }),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, call_result res) {
                       ASSERT_FALSE(e);
                       result = std::move(res);
                   }));
    const auto start = std::chrono::steady_clock::now();
    ctx.run_for(5s);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status.ec, asio::error::operation_aborted) << result->status.ec.message();
    EXPECT_GE(events, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms) << "the cancel must not wait for the idle timeout";
}

TEST_F(adapters_test, slow_consumer_applies_backpressure_and_loses_nothing)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> many;
    many.push_back(openai_stream[0]);
    std::string expected;
    for (int i = 0; i < 300; ++i)
    {
        many.push_back(R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x)" +
                       std::to_string(i) + R"("},"finish_reason":null}]})");
        expected += "x" + std::to_string(i);
    }
    many.push_back(openai_stream[3]);
    many.push_back(openai_stream[5]);
    server.enqueue(fake_response::sse(many));
    std::vector<std::string> texts;
    auto res = call(config_for("openai", server.base_url("/v1")), hello(), &texts);
    ASSERT_TRUE(res.status.ok()) << res.status.diag.to_string();
    EXPECT_EQ(res.response.text, expected);
}

TEST_F(adapters_test, complete_aggregates_the_stream)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::sse(openai_stream));
    auto p = ep::providers::make_provider(ctx.get_executor(), config_for("openai", server.base_url("/v1")),
                                          direct());
    auto res = run(ep::providers::complete(*p, hello()));
    ASSERT_TRUE(res.status.ok());
    EXPECT_EQ(res.response.text, "Hello, world");
    EXPECT_EQ(res.response.model, "test-model");
}

TEST(factory_test, rejects_unusable_configuration)
{
    asio::io_context ctx;
    EXPECT_THROW(ep::providers::make_provider(ctx.get_executor(), config_for("nope", "http://127.0.0.1:1")),
                 std::invalid_argument);
    EXPECT_THROW(ep::providers::make_provider(ctx.get_executor(), config_for("openai", "ftp://x")),
                 std::invalid_argument);
    auto cfg = config_for("openai", "https://127.0.0.1:1");
    cfg.ca_file = "/nonexistent/ca.pem";
    EXPECT_THROW(ep::providers::make_provider(ctx.get_executor(), cfg), std::invalid_argument);
}

}  // namespace
