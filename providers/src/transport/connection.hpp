#pragma once
// One open HTTP connection: plain TCP or TLS over TCP. Private to the transport.

#include <ep/providers/http_client.hpp>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <deque>
#include <variant>

namespace ep::providers::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;

using tcp_stream = beast::tcp_stream;
using tls_stream = asio::ssl::stream<beast::tcp_stream>;

struct connection
{
    std::variant<tcp_stream, tls_stream> stream;
    std::string key;            // http_endpoint::pool_key()
    beast::flat_buffer buffer;  // bytes read past the last parsed message

    connection(tcp_stream s, std::string k) : stream(std::move(s)), key(std::move(k)) {}
    connection(tls_stream s, std::string k) : stream(std::move(s)), key(std::move(k)) {}

    tcp_stream& lowest()
    {
        if (auto* tcp = std::get_if<tcp_stream>(&stream))
            return *tcp;
        return std::get<tls_stream>(stream).next_layer();
    }

    /// Closes the socket without a TLS close_notify: the peer learns from the FIN, and we
    /// never wait on a peer to finish a shutdown.
    void close() noexcept
    {
        boost::system::error_code ignored;
        lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }

    /// Still open, and the peer has neither closed it nor sent unexpected bytes while idle.
    bool usable_when_idle();
};

}  // namespace ep::providers::transport

namespace ep::providers {

struct connection_pool::impl
{
    std::size_t max_idle_per_host;
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::deque<std::unique_ptr<transport::connection>>> idle;
    std::atomic<std::uint64_t> opened{0};

    /// An idle connection for `key` that still looks alive, or null.
    std::unique_ptr<transport::connection> take(const std::string& key);
    /// Keeps `c` for reuse (or closes it if the host already has enough idle connections).
    void give(std::unique_ptr<transport::connection> c);
};

}  // namespace ep::providers
