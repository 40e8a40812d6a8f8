// One HTTP/1.1 request/response over a pooled connection, with the named timeouts
// (connect, first_byte, idle, each re-armed per phase of the exchange) and abort translation
// (a user's cancel is reported as operation_aborted, never as the timeout that was armed).

#include "transport/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <array>
#include <limits>
#include <optional>

namespace ep::providers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using transport::connection;
using transport::tcp_stream;
using transport::tls_stream;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_chunk = 16 * 1024;

enum class phase { connect, handshake, request, body };

// Not a coroutine of its own: awaiting a nested awaitable after a cancel throws when the
// caller's coroutine has throw_if_cancelled(true), and these checks run exactly then.
bool is_cancelled(const asio::cancellation_state& cs)
{
    return cs.cancelled() != asio::cancellation_type::none;
}

std::string ms(std::chrono::milliseconds d)
{
    return std::to_string(d.count()) + " ms";
}

bool is_ip_literal(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

std::string base64(std::string_view in)
{
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

/// A stale keep-alive connection (closed by the server while idle) fails like this on the
/// first write or before any response byte.
bool is_stale_connection_error(error_code ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

}  // namespace

struct http_exchange::impl
{
    asio::any_io_executor ex;
    transport_options opts;
    std::unique_ptr<connection> conn;
    std::optional<http::response_parser<http::buffer_body>> parser;
    http_response_head head;
    bool reused = false;
    bool body_done = false;
    bool failed = false;
    // The first-token limit: its length, then (once the request is written) its deadline,
    // and whether the timer armed last was set by it (so a timeout is reported as it).
    std::chrono::milliseconds first_token{0};
    std::optional<std::chrono::steady_clock::time_point> token_deadline;
    bool token_armed = false;
    std::array<char, body_chunk> body_buf{};

    impl(asio::any_io_executor e, transport_options o) : ex(std::move(e)), opts(std::move(o)) {}

    void log_debug(std::string_view what, const http_endpoint& target) const
    {
        if (opts.log)
            opts.log->debug("http: {} {}", what, target.pool_key());
    }

    /// Arms the timer of the connection for `limit` from now, or for the first-token deadline
    /// when that is nearer (and remembers which).
    void arm(std::chrono::milliseconds limit)
    {
        const auto at = std::chrono::steady_clock::now() + limit;
        token_armed = token_deadline && *token_deadline < at;
        conn->lowest().expires_at(token_armed ? *token_deadline : at);
    }

    /// Maps a failed operation to what actually happened: a user cancel first, then the
    /// timeout that was armed for this phase, then the phase's failure code.
    error_code translate(error_code raw, phase p, bool was_cancelled, diagnostics& diag)
    {
        failed = true;
        if (conn)
            conn->close();
        if (was_cancelled)
        {
            diag.message = "cancelled";
            return asio::error::operation_aborted;
        }
        if (raw == beast::error::timeout && token_armed && (p == phase::request || p == phase::body))
        {
            diag.message = "first-token timeout: no content from the model within " + ms(first_token);
            return provider_errc::first_token_timeout;
        }
        if (raw == beast::error::timeout)
        {
            switch (p)
            {
            case phase::connect:
            case phase::handshake:
                diag.message = "connect timeout: no connection within " + ms(opts.timeouts.connect);
                return provider_errc::connect_timeout;
            case phase::request:
                diag.message = "first-byte timeout: no response header within " + ms(opts.timeouts.first_byte);
                return provider_errc::first_byte_timeout;
            case phase::body:
                diag.message = "idle timeout: no data for " + ms(opts.timeouts.idle);
                return provider_errc::idle_timeout;
            }
        }
        switch (p)
        {
        case phase::connect:
            diag.message = "connect failed: " + raw.message();
            return provider_errc::connect_failed;
        case phase::handshake:
            if (diag.message.empty())
                diag.message = "TLS handshake failed: " + raw.message();
            return provider_errc::tls_failed;
        case phase::request:
            diag.message = "connection failed before the response header: " + raw.message();
            return provider_errc::connect_failed;
        case phase::body:
            diag.message = "connection failed in the middle of the response body: " + raw.message();
            return provider_errc::stream_truncated;
        }
        return provider_errc::connect_failed;
    }

    template <class Stream>
    static asio::awaitable<error_code> proxy_connect(Stream& s, const http_endpoint& proxy,
                                                     const http_endpoint& target, diagnostics& diag)
    {
        http::request<http::empty_body> req{http::verb::connect, target.host.find(':') != std::string::npos
                                                                     ? "[" + target.host + "]:" + std::to_string(target.port)
                                                                     : target.host + ":" + std::to_string(target.port),
                                            11};
        req.set(http::field::host, req.target());
        if (!proxy.userinfo.empty())
            req.set(http::field::proxy_authorization, "Basic " + base64(proxy.userinfo));
        auto [wec, wn] = co_await http::async_write(s, req, use_tuple);
        if (wec)
            co_return wec;
        // The proxy's answer carries no body we want; read the header only, byte-exact, so
        // nothing of the tunnelled TLS stream is consumed.
        beast::flat_buffer buf;
        http::response_parser<http::empty_body> res;
        res.skip(true);
        auto [rec, rn] = co_await http::async_read_header(s, buf, res, use_tuple);
        if (rec)
            co_return rec;
        if (res.get().result_int() / 100 != 2)
        {
            diag.message = "the HTTPS proxy refused CONNECT with status " + std::to_string(res.get().result_int());
            co_return asio::error::connection_refused;
        }
        if (buf.size() != 0)
            co_return asio::error::connection_aborted;  // bytes from the target before our handshake
        co_return error_code{};
    }

    asio::awaitable<error_code> connect(const http_endpoint& target, diagnostics& diag)
    {
        const http_endpoint& hop = opts.proxy ? *opts.proxy : target;
        const auto deadline = std::chrono::steady_clock::now() + opts.timeouts.connect;

        asio::ip::tcp::resolver resolver(ex);
        auto [rec, results] = co_await resolver.async_resolve(hop.host, std::to_string(hop.port), use_tuple);
        if (rec)
        {
            const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            co_return translate(rec, phase::connect, was_cancelled, diag);
        }

        tcp_stream tcp(ex);
        tcp.expires_at(deadline);
        auto [cec, ep] = co_await tcp.async_connect(results, use_tuple);
        if (cec)
        {
            tcp.close();
            const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            co_return translate(cec, phase::connect, was_cancelled, diag);
        }
        error_code ignored;
        tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);  // SSE is many small writes
        if (opts.pool)
            opts.pool->get_impl().opened++;

        if (opts.proxy)
        {
            tcp.expires_at(deadline);
            diagnostics proxy_diag;
            if (auto pec = co_await proxy_connect(tcp, *opts.proxy, target, proxy_diag))
            {
                tcp.close();
                const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
                auto ec = translate(pec, phase::connect, was_cancelled, diag);
                if (!proxy_diag.message.empty() && ec == provider_errc::connect_failed)
                    diag.message = proxy_diag.message;
                co_return ec;
            }
        }

        if (!target.tls)
        {
            tcp.expires_never();
            conn = std::make_unique<connection>(std::move(tcp), target.pool_key());
            co_return error_code{};
        }
        if (!opts.tls)
        {
            tcp.close();
            failed = true;
            diag.message = "https endpoint but no TLS context configured";
            co_return provider_errc::tls_failed;
        }

        tls_stream tls(std::move(tcp), *opts.tls);
        // SNI carries host names only (RFC 6066); the CDNs in front of the providers need it.
        if (!is_ip_literal(target.host))
            SSL_set_tlsext_host_name(tls.native_handle(), target.host.c_str());
        if (opts.verify_peer)
        {
            tls.set_verify_mode(asio::ssl::verify_peer);
            tls.set_verify_callback(asio::ssl::host_name_verification(target.host));
        }
        else
        {
            tls.set_verify_mode(asio::ssl::verify_none);
        }
        tls.next_layer().expires_at(deadline);
        auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (hec)
        {
            const long verify = SSL_get_verify_result(tls.native_handle());
            if (verify != X509_V_OK)
                diag.message = std::string("TLS certificate verification failed: ") +
                               X509_verify_cert_error_string(verify);
            tls.next_layer().close();
            const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            co_return translate(hec, phase::handshake, was_cancelled, diag);
        }
        tls.next_layer().expires_never();
        conn = std::make_unique<connection>(std::move(tls), target.pool_key());
        co_return error_code{};
    }

    /// Writes the request and reads the response header; returns the raw error so the caller
    /// can tell a stale pooled connection from a real failure.
    template <class Stream>
    asio::awaitable<error_code> exchange_header(Stream& s, const http::request<http::string_body>& req)
    {
        const auto header_limit = std::chrono::steady_clock::now() + opts.timeouts.first_byte;
        conn->lowest().expires_at(header_limit);
        token_armed = false;
        auto [wec, wn] = co_await http::async_write(s, req, use_tuple);
        if (wec)
            co_return wec;
        // The request is out: the first-token clock starts, and may end the header wait.
        if (first_token.count() > 0)
        {
            token_deadline = std::chrono::steady_clock::now() + first_token;
            token_armed = *token_deadline < header_limit;
            if (token_armed)
                conn->lowest().expires_at(*token_deadline);
        }
        parser.emplace();
        parser->body_limit((std::numeric_limits<std::uint64_t>::max)());  // streams run long
        parser->header_limit(64 * 1024);
        auto [rec, rn] = co_await http::async_read_header(s, conn->buffer, *parser, use_tuple);
        co_return rec;
    }

    template <class Stream>
    asio::awaitable<std::pair<error_code, std::size_t>> body_read_some(Stream& s)
    {
        auto& body = parser->get().body();
        body.data = body_buf.data();
        body.size = body_buf.size();
        auto [ec, n] = co_await http::async_read_some(s, conn->buffer, *parser, use_tuple);
        if (ec == http::error::need_buffer)
            ec = {};
        co_return std::pair{ec, body_buf.size() - body.size};
    }

    void release() noexcept
    {
        if (!conn)
            return;
        const bool reusable = !failed && body_done && parser && parser->keep_alive() && conn->buffer.size() == 0 &&
                              opts.pool != nullptr;
        if (reusable)
        {
            conn->lowest().expires_never();
            opts.pool->get_impl().give(std::move(conn));
        }
        else
        {
            conn->close();
            conn.reset();
        }
    }
};

http_exchange::http_exchange(asio::any_io_executor ex, transport_options opts)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(opts)))
{
}

http_exchange::~http_exchange()
{
    impl_->release();
}

void http_exchange::set_first_token_timeout(std::chrono::milliseconds limit) noexcept
{
    impl_->first_token = limit;
    impl_->token_deadline.reset();
}

void http_exchange::first_content() noexcept
{
    impl_->first_token = std::chrono::milliseconds{0};
    impl_->token_deadline.reset();
}

const http_response_head& http_exchange::head() const noexcept
{
    return impl_->head;
}

bool http_exchange::body_done() const noexcept
{
    return impl_->body_done;
}

bool http_exchange::reused_connection() const noexcept
{
    return impl_->reused;
}

void http_exchange::close() noexcept
{
    impl_->failed = true;
    if (impl_->conn)
        impl_->conn->close();
}

asio::awaitable<error_code> http_exchange::start(const http_endpoint& target, const http_request& req,
                                                 diagnostics& diag)
{
    auto& d = *impl_;
    if (d.conn)
    {
        d.failed = true;  // start() twice: never mix two responses on one connection
        d.release();
    }
    d.failed = false;
    d.body_done = false;
    if (is_cancelled(co_await asio::this_coro::cancellation_state))
    {
        diag.message = "cancelled";
        co_return asio::error::operation_aborted;
    }

    http::request<http::string_body> msg;
    msg.version(11);
    msg.method_string(req.method);
    msg.target(req.target);
    for (const auto& [name, value] : req.headers)
        msg.insert(name, value);
    if (msg.find(http::field::host) == msg.end())
        msg.set(http::field::host, target.authority());
    if (msg.find(http::field::user_agent) == msg.end())
        msg.set(http::field::user_agent, "ep/0.1");
    msg.body() = req.body;
    msg.prepare_payload();

    // One retry, and only when a pooled connection turned out to be closed by the server
    // before it read our request (no response byte seen).
    for (int attempt = 0;; ++attempt)
    {
        d.conn.reset();
        d.reused = false;
        if (attempt == 0 && d.opts.pool)
        {
            d.conn = d.opts.pool->get_impl().take(target.pool_key());
            d.reused = d.conn != nullptr;
        }
        if (!d.conn)
        {
            if (auto ec = co_await d.connect(target, diag))
                co_return ec;
            d.log_debug("connected to", target);
        }
        d.failed = false;

        error_code raw = co_await std::visit([&](auto& s) { return d.exchange_header(s, msg); }, d.conn->stream);
        if (!raw)
            break;
        if (d.reused && attempt == 0 && is_stale_connection_error(raw) && !is_cancelled(co_await asio::this_coro::cancellation_state))
        {
            d.log_debug("pooled connection was closed by the server; reconnecting to", target);
            d.conn->close();
            continue;
        }
        const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
        co_return d.translate(raw, phase::request, was_cancelled, diag);
    }

    auto& res = d.parser->get();
    d.head.status = static_cast<int>(res.result_int());
    d.head.headers.clear();
    for (const auto& field : res)
        d.head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    d.body_done = d.parser->is_done();
    co_return error_code{};
}

asio::awaitable<error_code> http_exchange::read_some(std::string& out, diagnostics& diag)
{
    auto& d = *impl_;
    out.clear();
    if (d.body_done)
        co_return error_code{};
    if (!d.conn || d.failed || !d.parser)
    {
        diag.message = "read on a failed or unstarted exchange";
        co_return provider_errc::stream_truncated;
    }
    for (;;)
    {
        // A cancel that arrived between two reads has no operation to cancel.
        if (is_cancelled(co_await asio::this_coro::cancellation_state))
            co_return d.translate(asio::error::operation_aborted, phase::body, true, diag);
        // Before every read: any bytes, even an SSE comment or ping, re-arm the idle limit
        // (but not the first-token one: only content ends that).
        d.arm(d.opts.timeouts.idle);
        auto [ec, got] = co_await std::visit([&](auto& s) { return d.body_read_some(s); }, d.conn->stream);
        if (ec)
        {
            const bool was_cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            co_return d.translate(ec, phase::body, was_cancelled, diag);
        }
        d.body_done = d.parser->is_done();
        if (got > 0 || d.body_done)
        {
            out.assign(d.body_buf.data(), got);
            co_return error_code{};
        }
    }
}

asio::awaitable<error_code> http_exchange::read_all(std::string& out, std::size_t limit, diagnostics& diag)
{
    out.clear();
    std::string piece;
    while (!impl_->body_done)
    {
        if (auto ec = co_await read_some(piece, diag))
            co_return ec;
        if (out.size() < limit)
            out.append(piece, 0, std::min(piece.size(), limit - out.size()));
    }
    co_return error_code{};
}

asio::awaitable<void> http_exchange::discard_rest(std::chrono::milliseconds max_wait)
{
    const auto idle = impl_->opts.timeouts.idle;
    impl_->opts.timeouts.idle = std::min(idle, max_wait);
    std::string piece;
    diagnostics ignored;
    while (!impl_->body_done)
        if (co_await read_some(piece, ignored))
            break;  // already closed by read_some
    impl_->opts.timeouts.idle = idle;
}

}  // namespace ep::providers
