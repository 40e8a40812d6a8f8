// The listener and its connections: Beast HTTP/1.1 with keep-alive over TCP or TLS. Each
// request is read with a header limit and a body limit under named timeouts (header_timeout
// covers the wait for the next request and the whole header, so a client trickling bytes is
// cut off; body_timeout the body); a request that breaks a limit gets its 4xx and the
// connection is closed. Responses are written whole or as chunks under write_timeout.
#include "http/request_reading.hpp"
#include "server_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/logger.h>

#include <variant>

namespace ep::server {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// "HOST:PORT", "[V6]:PORT".
std::optional<std::pair<std::string, std::uint16_t>> split_listen(const std::string& listen)
{
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return std::nullopt;
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const auto n = std::stoul(port);
    if (n > 65535)
        return std::nullopt;
    return std::make_pair(host == "localhost" ? std::string("127.0.0.1") : host, static_cast<std::uint16_t>(n));
}

}  // namespace

/// One client connection. Strand-confined (the server's single io_context thread).
class connection : public std::enable_shared_from_this<connection>
{
public:
    connection(server::impl& s, tcp::socket socket, std::string peer)
        : server_(s), peer_(std::move(peer)), stream_(beast::tcp_stream(std::move(socket)))
    {
    }

    void start_tls(asio::ssl::context& ctx)
    {
        auto plain = std::move(std::get<beast::tcp_stream>(stream_));
        stream_.emplace<tls_stream>(std::move(plain), ctx);
    }

    /// Ends every pending operation (server stop).
    void close()
    {
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().close();
    }

    asio::awaitable<void> run()
    {
        if (auto* s = std::get_if<tls_stream>(&stream_))
        {
            lowest().expires_after(server_.cfg.header_timeout);
            auto [ec] = co_await s->async_handshake(asio::ssl::stream_base::server, use_tuple);
            if (ec)
                co_return;
        }
        while (!server_.stopping)
            if (!co_await serve_one())
                break;
        if (auto* s = std::get_if<tls_stream>(&stream_))
        {
            lowest().expires_after(std::chrono::seconds(2));
            co_await s->async_shutdown(use_tuple);  // stream_truncated from the peer is benign
        }
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    // ---- response_sink over this connection -----------------------------------------------------
    class sink final : public response_sink
    {
    public:
        explicit sink(connection& c) : c_(c) {}
        asio::awaitable<boost::system::error_code> send(response res) override
        {
            started_ = true;
            keep_alive_ = res.keep_alive();
            c_.lowest().expires_after(c_.server_.cfg.write_timeout);
            auto ec = co_await c_.visit_write([&](auto& s) { return http::async_write(s, res, use_tuple); });
            c_.lowest().expires_never();
            broken_ = broken_ || bool(ec);
            co_return ec;
        }
        asio::awaitable<boost::system::error_code> start_stream(http::response<http::empty_body> head) override
        {
            started_ = true;
            streaming_ = true;
            keep_alive_ = head.keep_alive();
            head.chunked(true);
            http::response_serializer<http::empty_body> sr(head);
            c_.lowest().expires_after(c_.server_.cfg.write_timeout);
            auto ec = co_await c_.visit_write([&](auto& s) { return http::async_write_header(s, sr, use_tuple); });
            c_.lowest().expires_never();
            broken_ = broken_ || bool(ec);
            co_return ec;
        }
        asio::awaitable<boost::system::error_code> write(std::string_view data) override
        {
            if (broken_)
                co_return asio::error::broken_pipe;
            if (data.empty())
                co_return boost::system::error_code{};
            c_.lowest().expires_after(c_.server_.cfg.write_timeout);
            auto ec = co_await c_.visit_write(
                [&](auto& s) { return asio::async_write(s, http::make_chunk(asio::buffer(data.data(), data.size())), use_tuple); });
            c_.lowest().expires_never();
            broken_ = broken_ || bool(ec);
            co_return ec;
        }
        asio::awaitable<boost::system::error_code> finish() override
        {
            if (broken_)
                co_return asio::error::broken_pipe;
            c_.lowest().expires_after(c_.server_.cfg.write_timeout);
            auto ec = co_await c_.visit_write([&](auto& s) { return asio::async_write(s, http::make_chunk_last(), use_tuple); });
            c_.lowest().expires_never();
            broken_ = broken_ || bool(ec);
            finished_ = true;
            co_return ec;
        }
        bool started() const noexcept override { return started_; }

        // The connection can serve another request only after a complete, kept-alive response.
        bool reusable() const noexcept { return started_ && keep_alive_ && !broken_ && (!streaming_ || finished_); }

    private:
        connection& c_;
        bool started_ = false;
        bool streaming_ = false;
        bool finished_ = false;
        bool keep_alive_ = false;
        bool broken_ = false;
    };

private:
    beast::tcp_stream& lowest()
    {
        if (auto* s = std::get_if<tls_stream>(&stream_))
            return beast::get_lowest_layer(*s);
        return std::get<beast::tcp_stream>(stream_);
    }

    // Runs `op(stream)` on whichever stream this connection has; returns its error code.
    template <class Op>
    asio::awaitable<boost::system::error_code> visit_write(Op op)
    {
        if (auto* s = std::get_if<tls_stream>(&stream_))
        {
            auto r = co_await op(*s);
            co_return std::get<0>(r);
        }
        auto r = co_await op(std::get<beast::tcp_stream>(stream_));
        co_return std::get<0>(r);
    }

    template <class Op>
    asio::awaitable<boost::system::error_code> visit_read(Op op)
    {
        co_return co_await visit_write(std::move(op));
    }

    // A response to a request that could not be read; the connection closes after it.
    asio::awaitable<void> refuse(http::status status, std::string_view message)
    {
        request dummy;
        dummy.version(11);
        dummy.keep_alive(false);
        sink s(*this);
        auto res = error_response(dummy, status, error_type_for(status), message);
        res.keep_alive(false);
        server_.metrics.http_response(res.result_int());
        co_await s.send(std::move(res));
    }

    // Reads and answers one request; false when the connection is to be closed.
    asio::awaitable<bool> serve_one()
    {
        http::request_parser<http::string_body> parser;
        limit_request_parser(parser, server_.cfg);
        lowest().expires_after(server_.cfg.header_timeout);
        auto ec = co_await visit_read([&](auto& s) { return http::async_read_header(s, buffer_, parser, use_tuple); });
        if (ec)
        {
            co_await read_failed(ec, true);
            co_return false;
        }
        if (auto expect = parser.get().find(http::field::expect);
            expect != parser.get().end() && beast::iequals(expect->value(), "100-continue"))
        {
            http::response<http::empty_body> cont{http::status::continue_, 11};
            co_await visit_write([&](auto& s) { return http::async_write(s, cont, use_tuple); });
        }
        if (!parser.is_done())
        {
            lowest().expires_after(server_.cfg.body_timeout);
            ec = co_await visit_read([&](auto& s) { return http::async_read(s, buffer_, parser, use_tuple); });
            if (ec)
            {
                co_await read_failed(ec, false);
                co_return false;
            }
        }
        lowest().expires_never();
        request req = parser.release();
        sink out(*this);
        co_await server_.handle(req, out, peer_);
        co_return out.reusable() && !server_.stopping;
    }

    asio::awaitable<void> read_failed(boost::system::error_code ec, bool in_header)
    {
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
            ec == asio::error::operation_aborted || ec == beast::error::timeout || server_.stopping)
            co_return;  // the client left or was too slow: nothing to answer (the socket is closed)
        if (ec == http::error::header_limit)
            co_await refuse(http::status::request_header_fields_too_large, "request header too large");
        else if (ec == http::error::body_limit)
            co_await refuse(http::status::payload_too_large,
                            "request body larger than " + std::to_string(server_.cfg.max_body_bytes) + " bytes");
        else if (ec.category() == http::make_error_code(http::error::bad_target).category() || in_header)
            co_await refuse(http::status::bad_request, "malformed HTTP request");
        else
            server_.log->debug("connection from {}: {}", peer_, ec.message());
    }

    server::impl& server_;
    std::string peer_;
    std::variant<beast::tcp_stream, tls_stream> stream_;
    beast::flat_buffer buffer_;
};

namespace {

asio::awaitable<void> run_connection(server::impl& s, std::shared_ptr<connection> c)
{
    co_await c->run();
    s.connections.erase(c);
}

asio::awaitable<void> accept_loop(server::impl& s)
{
    for (;;)
    {
        auto [ec, socket] = co_await s.acceptor->async_accept(use_tuple);
        if (ec)
        {
            if (ec == asio::error::operation_aborted || !s.acceptor->is_open())
                co_return;
            s.log->warn("accept failed: {}", ec.message());
            continue;  // e.g. EMFILE: keep serving the connections we have
        }
        if (s.connections.size() >= s.cfg.max_connections)
        {
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        boost::system::error_code pec, ignored;
        auto ep = socket.remote_endpoint(pec);
        std::string peer = pec ? std::string("unknown") : ep.address().to_string();
        socket.set_option(tcp::no_delay(true), ignored);
        auto c = std::make_shared<connection>(s, std::move(socket), std::move(peer));
        if (s.tls)
            c->start_tls(*s.tls);
        s.connections.insert(c);
        asio::co_spawn(s.ioc, run_connection(s, c), asio::detached);
    }
}

}  // namespace

std::string server::impl::listen()
{
    auto hp = split_listen(cfg.listen);
    if (!hp)
        return "--listen '" + cfg.listen + "' is not HOST:PORT";
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(hp->first, ec);
    if (ec)
        return "--listen '" + cfg.listen + "': '" + hp->first + "' is not an IP address";
    tcp::endpoint ep(addr, hp->second);
    auto a = std::make_unique<tcp::acceptor>(ioc);
    a->open(ep.protocol(), ec);
    if (!ec)
        a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        a->bind(ep, ec);
    if (!ec)
        a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return "cannot listen on " + cfg.listen + ": " + ec.message();
    acceptor = std::move(a);
    asio::co_spawn(ioc, accept_loop(*this), asio::detached);
    return {};
}

void server::impl::close_listener()
{
    if (acceptor)
    {
        boost::system::error_code ec;
        acceptor->close(ec);
    }
    for (const auto& c : std::vector<std::shared_ptr<connection>>(connections.begin(), connections.end()))
        c->close();
}

}  // namespace ep::server
