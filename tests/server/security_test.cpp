// Who may call ep-serve and what a hostile client can do: bearer tokens, a non-loopback listen
// refused without them, the per-caller rate limit, CORS off unless one origin is allowed, TLS,
// oversized bodies and headers, a client that trickles its header (slowloris), and keys that
// never leave the server.
#include "server_fixture.hpp"
#include "security/access.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>

#include <cstdlib>
#include <fstream>

namespace ep::server::test {
namespace {

server_harness::options base()
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    return o;
}

TEST(security, tokens_are_required_everywhere_but_health_and_compared_exactly)
{
    auto o = base();
    o.server.tokens = {"tok-alpha-0123456789", "tok-beta"};
    server_harness h(o);
    auto none = get(h.port(), "/v1/runs");
    EXPECT_EQ(none.status, 401u);
    EXPECT_EQ(none.header("www-authenticate"), "Bearer");
    EXPECT_EQ(none.body_json()["error"]["type"], "authentication_error");
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "Bearer tok-alpha-012345678"}}).status, 401u);
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "Bearer tok-alpha-01234567890"}}).status, 401u);
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "Basic dG9rLWJldGE="}}).status, 401u);
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "Bearer tok-alpha-0123456789"}}).status, 200u);
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "bearer tok-beta"}}).status, 200u);
    EXPECT_EQ(get(h.port(), "/metrics").status, 401u);
    EXPECT_EQ(post(h.port(), "/v1/chat/completions", json::object()).status, 401u);
    EXPECT_EQ(get(h.port(), "/healthz").status, 200u);
    EXPECT_EQ(get(h.port(), "/readyz").status, 200u);
    EXPECT_EQ(get(h.port(), "/v1/nothing").status, 404u) << "routing first: an unknown path says nothing more";
}

TEST(security, without_tokens_only_loopback_may_be_listened_on)
{
    auto o = base();
    o.server.listen = "0.0.0.0:0";
    server_harness refused(o);
    ASSERT_TRUE(refused.start_error_message());
    EXPECT_NE(refused.start_error_message()->message.find("EP_SERVE_TOKENS"), std::string::npos);
    o.server.tokens = {"t"};
    server_harness allowed(o);
    EXPECT_FALSE(allowed.start_error_message());
    EXPECT_TRUE(is_loopback_host("127.0.0.1") && is_loopback_host("127.8.9.1") && is_loopback_host("::1") &&
                is_loopback_host("[::1]") && is_loopback_host("localhost"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0") || is_loopback_host("10.0.0.1") || is_loopback_host("::") ||
                 is_loopback_host("example.com"));
}

TEST(security, each_caller_has_its_own_rate_limit)
{
    auto o = base();
    o.server.tokens = {"a", "b"};
    o.server.rate_limit = 2;
    o.server.rate_burst = 3;
    server_harness h(o);
    int ok = 0, limited = 0;
    std::string retry_after;
    for (int i = 0; i < 6; ++i)
    {
        auto r = get(h.port(), "/v1/runs", {{"Authorization", "Bearer a"}});
        if (r.status == 200)
            ++ok;
        else if (r.status == 429)
        {
            ++limited;
            retry_after = r.header("retry-after");
            EXPECT_EQ(r.body_json()["error"]["type"], "rate_limit_error");
        }
    }
    EXPECT_GE(ok, 3);
    EXPECT_GE(limited, 2);
    EXPECT_EQ(retry_after, "1");
    EXPECT_EQ(get(h.port(), "/v1/runs", {{"Authorization", "Bearer b"}}).status, 200u) << "another token has its own bucket";
    EXPECT_EQ(get(h.port(), "/healthz").status, 200u) << "health checks are not rate limited";

    rate_limiter rl(10, 2);
    const auto t0 = rate_limiter::clock::now();
    EXPECT_FALSE(rl.admit("x", t0));
    EXPECT_FALSE(rl.admit("x", t0));
    ASSERT_TRUE(rl.admit("x", t0));
    EXPECT_EQ(rl.admit("x", t0)->count(), 100);
    EXPECT_FALSE(rl.admit("x", t0 + std::chrono::milliseconds(100)));
}

TEST(security, cors_is_off_by_default_and_allows_exactly_one_origin)
{
    server_harness off(base());
    auto r = get(off.port(), "/v1/runs", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(r.header("access-control-allow-origin"), "");
    EXPECT_EQ(http_call(off.port(), http::verb::options, "/v1/runs", {}, {{"Origin", "https://evil.example"}}).status, 405u);

    auto o = base();
    o.server.cors_origin = "https://ui.example";
    server_harness on(o);
    auto pre = http_call(on.port(), http::verb::options, "/v1/runs", {},
                         {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(pre.status, 204u);
    EXPECT_EQ(pre.header("access-control-allow-origin"), "https://ui.example");
    EXPECT_NE(pre.header("access-control-allow-headers").find("authorization"), std::string::npos);
    EXPECT_EQ(get(on.port(), "/v1/runs", {{"Origin", "https://ui.example"}}).header("access-control-allow-origin"),
              "https://ui.example");
    EXPECT_EQ(get(on.port(), "/v1/runs", {{"Origin", "https://evil.example"}}).header("access-control-allow-origin"), "");
}

TEST(security, oversized_bodies_and_headers_are_refused_and_the_server_goes_on)
{
    auto o = base();
    o.server.max_body_bytes = 1024;
    server_harness h(o);
    auto big = http_call(h.port(), http::verb::post, "/v1/runs", std::string(4096, 'x'));
    EXPECT_EQ(big.status, 413u);
    EXPECT_EQ(big.body_json()["error"]["type"], "request_too_large");
    auto header = get(h.port(), "/v1/runs", {{"X-Big", std::string(32 * 1024, 'y')}});
    EXPECT_EQ(header.status, 431u);
    EXPECT_EQ(get(h.port(), "/healthz").status, 200u);
}

TEST(security, a_client_trickling_its_header_is_cut_off_and_others_are_served)
{
    auto o = base();
    o.server.header_timeout = 300ms;
    server_harness h(o);
    asio::io_context ioc;
    asio::ip::tcp::socket slow(ioc);
    slow.connect({asio::ip::make_address("127.0.0.1"), h.port()});
    const std::string partial = "GET /v1/runs HTTP/1.1\r\nHost: x\r\n";
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    for (std::size_t i = 0; i < partial.size() && !closed; ++i)
    {
        boost::system::error_code ec;
        asio::write(slow, asio::buffer(&partial[i], 1), ec);
        closed = bool(ec);
        EXPECT_EQ(get(h.port(), "/healthz").status, 200u);
        std::this_thread::sleep_for(40ms);
    }
    char byte;
    boost::system::error_code ec;
    slow.read_some(asio::buffer(&byte, 1), ec);  // the server closed it
    EXPECT_TRUE(ec);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(security, https_when_a_certificate_is_given)
{
    auto dir = fresh_dir("ep-serve-tls-");
    const auto cert = dir / "cert.pem", key = dir / "key.pem";
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 "
                            "-addext subjectAltName=IP:127.0.0.1 -keyout " + key.string() + " -out " + cert.string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto o = base();
    o.server.tls_cert = cert;
    o.server.tls_key = key;
    server_harness h(o);
    ASSERT_FALSE(h.start_error_message());
    EXPECT_EQ(h.srv().base_url().rfind("https://", 0), 0u);
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(cert.string());
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> s(ioc, ctx);
    beast::get_lowest_layer(s).connect({asio::ip::make_address("127.0.0.1"), h.port()});
    s.handshake(asio::ssl::stream_base::client);
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    EXPECT_EQ(res.result_int(), 200u);
    // Plain HTTP to the TLS port gets no HTTP answer.
    unsigned plain = 0;
    try
    {
        plain = get(h.port(), "/healthz").status;
    }
    catch (const std::exception&)
    {
    }
    EXPECT_EQ(plain, 0u);

    auto bad = base();
    bad.server.tls_cert = cert;
    bad.server.tls_key = cert;  // not a key
    server_harness refused(bad);
    ASSERT_TRUE(refused.start_error_message());
    EXPECT_NE(refused.start_error_message()->message.find("--tls-key"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(security, keys_never_appear_in_responses_events_metrics_or_logs)
{
    auto o = base();
    const std::string secret = "sk-live-SECRET-0123456789abcdef";
    o.env["EP_OPENAI_API_KEY"] = secret;
    o.env["EP_ANTHROPIC_API_KEY"] = secret;
    o.env["EP_GEMINI_API_KEY"] = secret;
    o.server.tokens = {"client-token-XYZ"};
    server_harness h(o);
    const std::map<std::string, std::string> auth = {{"Authorization", "Bearer client-token-XYZ"}};
    auto run = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}}, auth);
    ASSERT_EQ(run.status, 201u) << run.body;
    const auto id = run.body_json()["run_id"].get<std::string>();
    std::string everything;
    for (int i = 0; i < 200; ++i)
    {
        auto r = get(h.port(), "/v1/runs/" + id, auth);
        if (r.body_json().value("status", "") == "completed" && !r.body_json().value("live", true))
        {
            everything += r.body;
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    everything += get(h.port(), "/v1/runs/" + id + "/events", auth).body;
    everything += get(h.port(), "/metrics", auth).body;
    everything += post(h.port(), "/v1/chat/completions", {{"model", "persona/architect"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}}, auth).body;
    everything += post(h.port(), "/v1/chat/completions", {{"model", "openai/emu-fault:401"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}}, auth).body;
    everything += get(h.port(), "/v1/models", auth).body;
    h.stop();
    everything += h.log();
    EXPECT_NE(everything.find("run_completed"), std::string::npos);
    EXPECT_EQ(everything.find(secret), std::string::npos);
    EXPECT_EQ(everything.find("client-token-XYZ"), std::string::npos);
    for (const auto& r : h.emu().requests())
        EXPECT_EQ(r.body.find("client-token-XYZ"), std::string::npos) << "the client's token is not forwarded";
}

}  // namespace
}  // namespace ep::server::test
