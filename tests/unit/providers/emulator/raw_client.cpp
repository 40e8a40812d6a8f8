#include "raw_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <type_traits>

namespace ep::emulator::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

// Async (so that tcp_stream's expiry applies) but driven to completion by send().
template <typename Stream>
asio::awaitable<void> exchange(Stream& stream, const raw_request& req, raw_response& out)
{
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    http::request<http::string_body> msg{http::string_to_verb(req.method), req.target, 11};
    msg.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : req.headers)
        msg.set(k, v);
    if (!req.body.empty() || req.method == "POST")
    {
        msg.body() = req.body;
        if (!msg.count(http::field::content_type))
            msg.set(http::field::content_type, "application/json");
        msg.prepare_payload();
    }
    auto [wec, wn] = co_await http::async_write(stream, msg, tok);
    if ((out.ec = wec))
        co_return;
    auto sent = clock_type::now();

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (req.method == "HEAD")
        parser.skip(true);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tok);
    if ((out.ec = hec))
        co_return;
    out.got_header = true;
    out.header_after = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - sent);
    const auto& res = parser.get();
    out.status = res.result_int();
    for (const auto& f : res)
    {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        out.headers[name] = std::string(f.value());
    }
    char chunk[4096];
    while (!parser.is_done())
    {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, tok);
        out.body.append(chunk, sizeof chunk - parser.get().body().size);
        if (ec == http::error::need_buffer)
            continue;
        if ((out.ec = ec))
            co_return;
    }
    out.complete = true;
}

template <typename Stream>
asio::awaitable<void> connect_and_exchange(Stream& stream, asio::ip::tcp::endpoint ep, const raw_request& req,
                                           raw_response& out)
{
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(req.timeout);
    auto [cec] = co_await tcp.async_connect(ep, tok);
    if ((out.ec = cec))
        co_return;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>)
    {
        auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, tok);
        if ((out.ec = hec))
            co_return;
    }
    co_await exchange(stream, req, out);
}

}  // namespace

raw_response send(unsigned short port, const raw_request& req)
{
    raw_response out;
    auto start = clock_type::now();
    asio::io_context ioc;
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    if (req.ca_pem.empty())
    {
        beast::tcp_stream stream(ioc);
        asio::co_spawn(ioc, connect_and_exchange(stream, ep, req, out), asio::detached);
        ioc.run();
    }
    else
    {
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.add_certificate_authority(asio::buffer(req.ca_pem), out.ec);
        ctx.set_verify_mode(asio::ssl::verify_peer);
        beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
        SSL_set_tlsext_host_name(stream.native_handle(), req.tls_host.c_str());
        stream.set_verify_callback(asio::ssl::host_name_verification(req.tls_host));
        asio::co_spawn(ioc, connect_and_exchange(stream, ep, req, out), asio::detached);
        ioc.run();
    }
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    return out;
}

raw_response post_json(unsigned short port, const std::string& target, const nlohmann::json& body,
                       std::map<std::string, std::string> headers)
{
    raw_request req;
    req.target = target;
    req.body = body.dump();
    req.headers = std::move(headers);
    return send(port, req);
}

std::vector<sse_event> parse_sse(const std::string& body)
{
    std::vector<sse_event> out;
    sse_event current;
    bool has_fields = false;
    std::size_t pos = 0;
    while (pos < body.size())
    {
        auto nl = body.find('\n', pos);
        if (nl == std::string::npos)
            break;  // an unterminated last line is not an event
        std::string line = body.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty())
        {
            if (has_fields)
                out.push_back(current);
            current = {};
            has_fields = false;
            continue;
        }
        auto colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        if (field == "event")
            current.event = value;
        else if (field == "data")
            current.data += (current.data.empty() ? "" : "\n") + value;
        has_fields = true;
    }
    return out;
}

}  // namespace ep::emulator::test
