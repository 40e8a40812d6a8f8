// Added latency of one streamed call through the full stack (openai adapter: encoder,
// transport, SSE decoder, channel, stream_call) against a raw socket read of the same bytes
// from the same loopback server. Both keep their connection alive between iterations.
//
// Prints both means and the difference (the "added latency").

#include <ep/providers/factory.hpp>
#include <ep/providers/provider.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// A canned OpenAI stream: 20 text chunks, finish, usage, [DONE], as one chunked body.
std::string canned_response()
{
    std::string body;
    auto event = [&](const std::string& data) { body += "data: " + data + "\n\n"; };
    for (int i = 0; i < 20; ++i)
        event(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"token )" +
              std::to_string(i) + R"( "},"finish_reason":null}]})");
    event(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
    event(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":20,"total_tokens":25}})");
    event("[DONE]");
    char size[32];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

const std::string response = canned_response();

/// Keep-alive loopback server: for every request (header + Content-Length body), the canned
/// response. Runs on its own thread for the whole program.
class server
{
public:
    server()
    {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        asio::co_spawn(ioc_, accept(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~server()
    {
        ioc_.stop();
        thread_.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    asio::awaitable<void> session(tcp::socket s)
    {
        asio::streambuf buf;
        for (;;)
        {
            auto [ec, n] = co_await asio::async_read_until(s, buf, "\r\n\r\n", use_tuple);
            if (ec)
                co_return;
            std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<long>(n));
            buf.consume(n);
            std::size_t length = 0;
            for (auto pos = head.find("\r\n"); pos != std::string::npos; pos = head.find("\r\n", pos + 2))
            {
                std::string line = head.substr(pos + 2, head.find("\r\n", pos + 2) - pos - 2);
                for (auto& c : line)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (line.rfind("content-length:", 0) == 0)
                    length = std::stoul(line.substr(15));
            }
            if (buf.size() < length)
            {
                auto [rec, rn] = co_await asio::async_read(s, buf, asio::transfer_exactly(length - buf.size()), use_tuple);
                if (rec)
                    co_return;
            }
            buf.consume(length);
            if (auto [wec, wn] = co_await asio::async_write(s, asio::buffer(response), use_tuple); wec)
                co_return;
        }
    }
    asio::awaitable<void> accept()
    {
        for (;;)
        {
            auto [ec, s] = co_await acceptor_.async_accept(use_tuple);
            if (ec)
                co_return;
            s.set_option(tcp::no_delay(true));
            asio::co_spawn(ioc_, session(std::move(s)), asio::detached);
        }
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
};

server& the_server()
{
    static server s;
    return s;
}

const std::string raw_request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Content-Length: 2\r\n\r\n{}";

double raw_mean_us = 0;
double stack_mean_us = 0;

void bm_raw_socket(benchmark::State& state)
{
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), the_server().port()});
    s.set_option(tcp::no_delay(true));
    std::string buf;
    const auto start = std::chrono::steady_clock::now();
    std::int64_t n = 0;
    for (auto _ : state)
    {
        asio::write(s, asio::buffer(raw_request));
        buf.clear();
        asio::read_until(s, asio::dynamic_buffer(buf), "0\r\n\r\n");  // the chunked terminator
        benchmark::DoNotOptimize(buf.data());
        ++n;
    }
    raw_mean_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                  static_cast<double>(n);
    state.SetBytesProcessed(n * static_cast<std::int64_t>(response.size()));
}

void bm_full_stack(benchmark::State& state)
{
    asio::io_context ioc;
    ep::providers::provider_config cfg;
    cfg.name = "bench";
    cfg.type = "openai";
    cfg.base_url = "http://127.0.0.1:" + std::to_string(the_server().port()) + "/v1";
    cfg.api_key = "bench-key";
    ep::providers::model_info model;
    model.id = "m";
    cfg.models.push_back(model);
    auto pool = std::make_shared<ep::providers::connection_pool>();
    ep::providers::provider_deps deps;
    deps.pool = pool;
    deps.proxy = ep::providers::proxy_settings{};
    auto p = ep::providers::make_provider(ioc.get_executor(), cfg, deps);
    ep::providers::chat_request req;
    req.model = "m";
    req.messages.push_back(ep::providers::message::user_text("hi"));

    const auto start = std::chrono::steady_clock::now();
    std::int64_t n = 0;
    for (auto _ : state)
    {
        bool ok = false;
        asio::co_spawn(ioc, ep::providers::stream_call(*p, req, nullptr),
                       [&](std::exception_ptr e, ep::providers::call_result r) { ok = !e && r.status.ok(); });
        ioc.restart();
        ioc.run();
        if (!ok)
        {
            state.SkipWithError("the streamed call failed");
            break;
        }
        ++n;
    }
    stack_mean_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                    static_cast<double>(std::max<std::int64_t>(n, 1));
    state.counters["connections"] = static_cast<double>(pool->connections_opened());
}

BENCHMARK(bm_raw_socket)->UseRealTime();
BENCHMARK(bm_full_stack)->UseRealTime();

}  // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::printf("\nstreamed call, %zu response bytes, keep-alive, loopback:\n", response.size());
    std::printf("  raw socket read : %8.1f us per call\n", raw_mean_us);
    std::printf("  full stack      : %8.1f us per call\n", stack_mean_us);
    std::printf("  added latency   : %8.1f us per call\n", stack_mean_us - raw_mean_us);
    return 0;
}
