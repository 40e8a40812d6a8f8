// The transport against the loopback fake server: bodies, keep-alive, each named timeout,
// cancellation, failures, TLS verification and the CONNECT proxy.

#include "fake_llm_server.hpp"
#include "io_fixture.hpp"

#include <ep/providers/call_deadline.hpp>
#include <ep/providers/http_client.hpp>
#include <ep/providers/tls.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using ep::providers::diagnostics;
using ep::providers::http_endpoint;
using ep::providers::http_exchange;
using ep::providers::http_request;
using ep::providers::provider_errc;
using ep::providers::transport_options;
using ep::test::fake_response;

struct outcome
{
    error_code ec;
    diagnostics diag;
    int status = 0;
    std::string body;
    std::vector<std::string> pieces;
    bool reused = false;
};

transport_options fast_options(std::shared_ptr<ep::providers::connection_pool> pool = nullptr)
{
    transport_options o;
    o.timeouts.connect = 2s;
    o.timeouts.first_byte = 2s;
    o.timeouts.idle = 2s;
    o.pool = std::move(pool);
    return o;
}

/// One POST, reading the body piece by piece.
asio::awaitable<outcome> fetch(std::string url, transport_options opts, std::string target = "/v1/chat")
{
    outcome out;
    auto ep = http_endpoint::parse(url);
    if (!ep)
        throw std::runtime_error("bad url " + url);
    http_exchange x(co_await asio::this_coro::executor, std::move(opts));
    http_request req{.method = "POST", .target = target, .headers = {{"Content-Type", "application/json"}}, .body = "{}"};
    out.ec = co_await x.start(*ep, req, out.diag);
    out.reused = x.reused_connection();
    if (out.ec)
        co_return out;
    out.status = x.head().status;
    std::string piece;
    for (;;)
    {
        out.ec = co_await x.read_some(piece, out.diag);
        if (out.ec || piece.empty())
            break;
        out.pieces.push_back(piece);
        out.body += piece;
    }
    co_return out;
}

class http_exchange_test : public ep::test::io_fixture
{
};

TEST_F(http_exchange_test, chunked_body_arrives_incrementally)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({"data: one", "data: two", "data: [DONE]"});
    r.chunk_delay = 20ms;  // separate TCP segments
    server.enqueue(r);

    auto out = run(fetch(server.base_url("/v1"), fast_options()));
    ASSERT_FALSE(out.ec) << out.ec.message() << " " << out.diag.to_string();
    EXPECT_EQ(out.status, 200);
    EXPECT_EQ(out.body, "data: one\n\ndata: two\n\ndata: [DONE]\n\n");
    EXPECT_GE(out.pieces.size(), 3u) << "the body must be delivered as it arrives";
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].target, "/v1/chat");
    EXPECT_EQ(server.requests()[0].body, "{}");
    EXPECT_NE(server.requests()[0].header("Host"), nullptr);
}

TEST_F(http_exchange_test, content_length_body)
{
    ep::test::fake_llm_server server;
    server.enqueue(fake_response::json_error(401, R"({"error":{"message":"bad key"}})"));
    auto out = run(fetch(server.base_url(), fast_options()));
    ASSERT_FALSE(out.ec) << out.diag.to_string();
    EXPECT_EQ(out.status, 401);
    EXPECT_EQ(out.body, R"({"error":{"message":"bad key"}})");
}

TEST_F(http_exchange_test, keep_alive_connection_is_reused_after_a_complete_response)
{
    ep::test::fake_llm_server server;
    auto pool = std::make_shared<ep::providers::connection_pool>();
    auto first = run(fetch(server.base_url(), fast_options(pool)));
    auto second = run(fetch(server.base_url(), fast_options(pool)));
    ASSERT_FALSE(first.ec);
    ASSERT_FALSE(second.ec);
    EXPECT_FALSE(first.reused);
    EXPECT_TRUE(second.reused);
    EXPECT_EQ(server.connections_accepted(), 1u);
    EXPECT_EQ(pool->connections_opened(), 1u);
    EXPECT_EQ(pool->idle_count(), 1u);
    ASSERT_EQ(server.requests().size(), 2u);
    EXPECT_EQ(server.requests()[1].connection, 1u);
}

TEST_F(http_exchange_test, connection_is_not_reused_after_a_failed_response)
{
    ep::test::fake_llm_server server;
    auto pool = std::make_shared<ep::providers::connection_pool>();
    auto cut = fake_response::sse({"data: partial"});
    cut.end = fake_response::ending::close;
    server.enqueue(cut);
    auto first = run(fetch(server.base_url(), fast_options(pool)));
    EXPECT_EQ(first.ec, provider_errc::stream_truncated) << first.ec.message();
    EXPECT_EQ(pool->idle_count(), 0u);
    auto second = run(fetch(server.base_url(), fast_options(pool)));
    ASSERT_FALSE(second.ec);
    EXPECT_FALSE(second.reused);
    EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(http_exchange_test, connection_closed_by_server_is_not_pooled)
{
    ep::test::fake_llm_server server;
    auto pool = std::make_shared<ep::providers::connection_pool>();
    auto r = fake_response::sse({"data: [DONE]"});
    r.keep_alive = false;  // "Connection: close"
    server.enqueue(r);
    ASSERT_FALSE(run(fetch(server.base_url(), fast_options(pool))).ec);
    EXPECT_EQ(pool->idle_count(), 0u);
    auto second = run(fetch(server.base_url(), fast_options(pool)));
    ASSERT_FALSE(second.ec) << second.diag.to_string();
    EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(http_exchange_test, refused_connection_is_connect_failed)
{
    std::uint16_t port;
    {
        asio::ip::tcp::acceptor a(ctx, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }  // closed: nothing listens there now
    auto out = run(fetch("http://127.0.0.1:" + std::to_string(port), fast_options()));
    EXPECT_EQ(out.ec, provider_errc::connect_failed) << out.ec.message();
    EXPECT_FALSE(out.diag.message.empty());
}

TEST_F(http_exchange_test, close_before_response_is_connect_failed)
{
    ep::test::fake_llm_server server;
    fake_response r;
    r.close_without_response = true;
    server.enqueue(r);
    auto out = run(fetch(server.base_url(), fast_options()));
    EXPECT_EQ(out.ec, provider_errc::connect_failed) << out.ec.message();
}

TEST_F(http_exchange_test, first_byte_timeout)
{
    ep::test::fake_llm_server server;
    fake_response r;
    r.never_respond = true;
    server.enqueue(r);
    auto opts = fast_options();
    opts.timeouts.first_byte = 200ms;
    const auto start = std::chrono::steady_clock::now();
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_EQ(out.ec, provider_errc::first_byte_timeout) << out.ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(http_exchange_test, slow_first_byte_within_the_limit_succeeds)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({"data: [DONE]"});
    r.first_byte_delay = 100ms;
    server.enqueue(r);
    auto opts = fast_options();
    opts.timeouts.first_byte = 2s;
    opts.timeouts.idle = 50ms;  // must not apply before the header
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_FALSE(out.ec) << out.diag.to_string();
}

TEST_F(http_exchange_test, idle_timeout_when_the_stream_stalls)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({"data: one"});
    r.end = fake_response::ending::stall;
    server.enqueue(r);
    auto opts = fast_options();
    opts.timeouts.idle = 200ms;
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_EQ(out.ec, provider_errc::idle_timeout) << out.ec.message();
    EXPECT_EQ(out.body, "data: one\n\n");
}

TEST_F(http_exchange_test, idle_timeout_is_rearmed_by_every_read)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> events(8, "data: tick");
    auto r = fake_response::sse(events);
    r.chunk_delay = 100ms;  // total 800 ms, each gap well under the idle limit
    server.enqueue(r);
    auto opts = fast_options();
    opts.timeouts.idle = 400ms;
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_FALSE(out.ec) << out.ec.message();
}

TEST_F(http_exchange_test, connect_timeout_covers_the_tls_handshake)
{
    // A listener that never accepts: the kernel completes the TCP handshake, nobody answers
    // the ClientHello.
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    auto opts = fast_options();
    opts.timeouts.connect = 200ms;
    opts.tls = ep::providers::make_tls_context().value();
    auto out = run(fetch("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()), opts));
    EXPECT_EQ(out.ec, provider_errc::connect_timeout) << out.ec.message();
}

TEST_F(http_exchange_test, total_timeout_fires_on_a_steady_but_slow_stream)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> events(50, "data: tick");
    auto r = fake_response::sse(events);
    r.chunk_delay = 50ms;
    server.enqueue(r);
    auto opts = fast_options();
    auto call = [&]() -> asio::awaitable<ep::providers::call_status> {
        auto out = co_await fetch(server.base_url(), opts);
        co_return ep::providers::call_status{out.ec, out.diag};
    };
    auto status = run(ep::providers::run_with_total_timeout(call(), 300ms));
    EXPECT_EQ(status.ec, provider_errc::total_timeout) << status.ec.message();
}

TEST_F(http_exchange_test, cancellation_mid_stream_is_operation_aborted_not_a_timeout)
{
    ep::test::fake_llm_server server;
    auto r = fake_response::sse({"data: one"});
    r.end = fake_response::ending::stall;
    server.enqueue(r);
    auto opts = fast_options();
    opts.timeouts.idle = 5s;

    asio::cancellation_signal cancel;
    asio::steady_timer timer(ctx, 200ms);
    timer.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::terminal); });
    std::optional<outcome> out;
    asio::co_spawn(ctx, fetch(server.base_url(), opts),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, outcome o) {
                       ASSERT_FALSE(e);
                       out = std::move(o);
                   }));
    const auto start = std::chrono::steady_clock::now();
    ctx.run_for(5s);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ec, asio::error::operation_aborted) << out->ec.message();
    EXPECT_EQ(out->body, "data: one\n\n");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// Cut the body after each possible number of chunks: every failure point yields an error
// code (never a success, never a hang) and leaves no work behind.
class cut_after_n : public ep::test::io_fixture, public ::testing::WithParamInterface<int>
{
};

TEST_P(cut_after_n, yields_stream_truncated)
{
    ep::test::fake_llm_server server;
    std::vector<std::string> events;
    for (int i = 0; i < GetParam(); ++i)
        events.push_back("data: " + std::to_string(i));
    auto r = fake_response::sse(events);
    r.end = fake_response::ending::close;
    server.enqueue(r);
    auto out = run(fetch(server.base_url(), fast_options()));
    EXPECT_EQ(out.ec, provider_errc::stream_truncated) << out.ec.message();
}

INSTANTIATE_TEST_SUITE_P(every_point, cut_after_n, ::testing::Range(0, 5));

// ---- TLS ---------------------------------------------------------------------------------

TEST_F(http_exchange_test, tls_accepted_with_the_right_ca)
{
    ep::test::test_pki pki;
    ep::test::fake_llm_server server(pki.server_context());
    auto opts = fast_options();
    opts.tls = ep::providers::make_tls_context(pki.ca_file()).value();
    auto out = run(fetch(server.base_url(), opts));
    ASSERT_FALSE(out.ec) << out.ec.message() << " " << out.diag.to_string();
    EXPECT_EQ(out.body, "data: [DONE]\n\n");
}

TEST_F(http_exchange_test, tls_rejected_with_a_wrong_ca)
{
    ep::test::test_pki pki;
    ep::test::test_pki other;
    ep::test::fake_llm_server server(pki.server_context());
    auto opts = fast_options();
    opts.tls = ep::providers::make_tls_context(other.ca_file()).value();
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_EQ(out.ec, provider_errc::tls_failed) << out.ec.message();
    EXPECT_NE(out.diag.message.find("verif"), std::string::npos) << out.diag.message;
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(http_exchange_test, tls_rejected_with_a_wrong_host_name)
{
    ep::test::test_pki pki({"wrong.example"}, {});  // valid chain, but not for 127.0.0.1
    ep::test::fake_llm_server server(pki.server_context());
    auto opts = fast_options();
    opts.tls = ep::providers::make_tls_context(pki.ca_file()).value();
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_EQ(out.ec, provider_errc::tls_failed) << out.ec.message();
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(http_exchange_test, missing_ca_file_is_an_error)
{
    auto tls = ep::providers::make_tls_context("/nonexistent/ca.pem");
    EXPECT_FALSE(tls);
}

// ---- proxy -------------------------------------------------------------------------------

TEST_F(http_exchange_test, https_through_a_connect_proxy)
{
    ep::test::test_pki pki;
    ep::test::fake_llm_server server(pki.server_context());
    ep::test::fake_connect_proxy proxy;
    auto opts = fast_options();
    opts.tls = ep::providers::make_tls_context(pki.ca_file()).value();
    ep::providers::proxy_settings settings{.https_proxy = "http://user:secret@127.0.0.1:" + std::to_string(proxy.port()), .no_proxy = ""};
    opts.proxy = settings.proxy_for(http_endpoint::parse(server.base_url()).value());
    ASSERT_TRUE(opts.proxy);
    auto out = run(fetch(server.base_url(), opts));
    ASSERT_FALSE(out.ec) << out.ec.message() << " " << out.diag.to_string();
    EXPECT_EQ(out.body, "data: [DONE]\n\n");
    ASSERT_EQ(proxy.targets().size(), 1u);
    EXPECT_EQ(proxy.targets()[0], "127.0.0.1:" + std::to_string(server.port()));
    ASSERT_EQ(proxy.authorizations().size(), 1u);
    EXPECT_EQ(proxy.authorizations()[0], "Basic dXNlcjpzZWNyZXQ=");
}

TEST_F(http_exchange_test, refusing_proxy_is_connect_failed)
{
    ep::test::test_pki pki;
    ep::test::fake_llm_server server(pki.server_context());
    ep::test::fake_connect_proxy proxy(/*refuse=*/true);
    auto opts = fast_options();
    opts.tls = ep::providers::make_tls_context(pki.ca_file()).value();
    opts.proxy = http_endpoint::parse(proxy.url()).value();
    auto out = run(fetch(server.base_url(), opts));
    EXPECT_EQ(out.ec, provider_errc::connect_failed) << out.ec.message();
    EXPECT_NE(out.diag.message.find("407"), std::string::npos) << out.diag.message;
}

TEST(proxy_settings_test, no_proxy_and_scheme_rules)
{
    ep::providers::proxy_settings s{.https_proxy = "proxy.corp:3128", .no_proxy = "localhost, .internal.example,api.local:8443"};
    auto target = [](const char* url) { return http_endpoint::parse(url).value(); };
    auto p = s.proxy_for(target("https://api.openai.com/v1"));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->host, "proxy.corp");
    EXPECT_EQ(p->port, 3128);
    EXPECT_FALSE(s.proxy_for(target("http://api.openai.com/v1"))) << "plain http goes direct";
    EXPECT_FALSE(s.proxy_for(target("https://localhost:9000")));
    EXPECT_FALSE(s.proxy_for(target("https://svc.internal.example")));
    EXPECT_FALSE(s.proxy_for(target("https://internal.example")));
    EXPECT_TRUE(s.proxy_for(target("https://notinternal.example")));
    EXPECT_FALSE(s.proxy_for(target("https://api.local:8443")));
    EXPECT_TRUE(s.proxy_for(target("https://api.local")));
    ep::providers::proxy_settings all{.https_proxy = "http://p:1", .no_proxy = "*"};
    EXPECT_FALSE(all.proxy_for(target("https://x.example")));
}

TEST(http_endpoint_test, parses_base_urls)
{
    auto a = http_endpoint::parse("https://api.openai.com/v1/").value();
    EXPECT_TRUE(a.tls);
    EXPECT_EQ(a.host, "api.openai.com");
    EXPECT_EQ(a.port, 443);
    EXPECT_EQ(a.path, "/v1");
    EXPECT_EQ(a.authority(), "api.openai.com");
    auto b = http_endpoint::parse("http://127.0.0.1:11434").value();
    EXPECT_FALSE(b.tls);
    EXPECT_EQ(b.port, 11434);
    EXPECT_EQ(b.path, "");
    EXPECT_EQ(b.authority(), "127.0.0.1:11434");
    auto c = http_endpoint::parse("http://[::1]:8080/api/v1").value();
    EXPECT_EQ(c.host, "::1");
    EXPECT_EQ(c.authority(), "[::1]:8080");
    EXPECT_EQ(c.path, "/api/v1");
    EXPECT_FALSE(http_endpoint::parse("ftp://x/"));
    EXPECT_FALSE(http_endpoint::parse("not a url"));
}

}  // namespace
