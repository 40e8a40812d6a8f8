#include "raw_client.hpp"

#include "ep/emulator/emulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace ep::emulator::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

json simple_openai(bool stream)
{
    return {{"model", "m"}, {"stream", stream}, {"messages", {{{"role", "user"}, {"content", "hello there"}}}}};
}

TEST(emulator_lifecycle, tls_with_the_exposed_ca)
{
    emulator_config cfg;
    cfg.tls = true;
    cfg.zero_latency = true;
    emulator emu(cfg);
    emu.start();
    ASSERT_NE(emu.ca_pem().find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_EQ(emu.openai_base_url(), "https://127.0.0.1:" + std::to_string(emu.port()) + "/v1");

    raw_request req;
    req.target = "/v1/chat/completions";
    req.body = simple_openai(true).dump();
    req.ca_pem = emu.ca_pem();
    for (const char* host : {"localhost", "127.0.0.1"})
    {
        req.tls_host = host;
        auto r = send(emu.port(), req);
        ASSERT_FALSE(r.ec) << host << ": " << r.ec.message();
        EXPECT_EQ(r.status, 200u);
        EXPECT_NE(r.body.find("[DONE]"), std::string::npos);
    }

    req.tls_host = "example.com";
    EXPECT_TRUE(send(emu.port(), req).ec) << "wrong host name is rejected";

    emulator other(cfg);
    other.start();
    req.tls_host = "localhost";
    req.ca_pem = other.ca_pem();
    EXPECT_TRUE(send(emu.port(), req).ec) << "a different CA is rejected";
}

TEST(emulator_lifecycle, refuses_non_loopback_hosts)
{
    emulator_config cfg;
    cfg.host = "0.0.0.0";
    emulator emu(cfg);
    EXPECT_THROW(emu.start(), std::runtime_error);
}

TEST(emulator_lifecycle, pacing_applies_time_to_first_token_and_rate)
{
    emulator_config cfg;
    cfg.time_to_first_token = 80ms;
    cfg.tokens_per_second = 1000;  // 1 ms per piece
    emulator emu(cfg);
    emu.start();
    auto r = post_json(emu.port(), "/v1/chat/completions", simple_openai(true));
    EXPECT_EQ(r.status, 200u);
    EXPECT_GE(r.elapsed, 80ms);
    EXPECT_LT(r.elapsed, 3000ms);
}

TEST(emulator_lifecycle, stop_closes_stalled_connections_promptly)
{
    emulator_config cfg;
    cfg.zero_latency = true;
    emulator emu(cfg);
    emu.start();
    raw_response result;
    std::thread client([&] {
        raw_request req;
        req.target = "/v1/chat/completions";
        req.body = simple_openai(true).dump();
        req.headers = {{"x-ep-emulator-fault", "stall:1"}};
        req.timeout = 10s;
        result = send(emu.port(), req);
    });
    // Wait until the request was seen, then stop while it is stalled.
    for (int i = 0; i < 200 && emu.requests().empty(); ++i)
        std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(20ms);
    auto start = std::chrono::steady_clock::now();
    emu.stop();
    client.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_TRUE(result.ec);
    EXPECT_NE(result.ec, boost::beast::error::timeout);
}

TEST(emulator_lifecycle, runs_on_a_caller_executor)
{
    boost::asio::io_context ioc;
    emulator_config cfg;
    cfg.zero_latency = true;
    emulator emu(ioc.get_executor(), cfg);
    emu.start();
    std::thread runner([&] { ioc.run(); });
    auto r = post_json(emu.port(), "/v1/chat/completions", simple_openai(false));
    EXPECT_EQ(r.status, 200u);
    emu.stop();
    runner.join();  // returns only once the emulator has no work left
    EXPECT_EQ(emu.stats().requests, 1u);
}

TEST(emulator_lifecycle, keep_alive_serves_several_requests_on_one_connection)
{
    namespace beast = boost::beast;
    namespace http = beast::http;
    emulator_config cfg;
    cfg.zero_latency = true;
    emulator emu(cfg);
    emu.start();
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(5s);
    stream.connect({boost::asio::ip::make_address("127.0.0.1"), emu.port()});
    beast::flat_buffer buffer;
    for (int i = 0; i < 2; ++i)
    {
        http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/json");
        req.body() = simple_openai(i == 0).dump();
        req.prepare_payload();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        EXPECT_EQ(res.result_int(), 200u);
        EXPECT_TRUE(res.keep_alive());
        // The stream splits the text into pieces; the whole answer holds the marker intact.
        EXPECT_NE(res.body().find(i == 0 ? "data: [DONE]" : "[emulated assistant via openai]"), std::string::npos);
    }
    EXPECT_EQ(emu.stats().requests, 2u);
}

}  // namespace
}  // namespace ep::emulator::test
