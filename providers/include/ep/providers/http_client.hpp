#pragma once
// The HTTP/1.1 transport under every HTTP adapter: one request/response exchange at a time on
// a pooled keep-alive connection (plain TCP or TLS, optionally tunnelled through an HTTPS
// proxy with CONNECT), with the body delivered incrementally. Beast stays behind a pimpl.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/http_types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio::ssl { class context; }
namespace spdlog { class logger; }

namespace ep::providers {

struct http_response_head
{
    int status = 0;
    http_headers headers;
};

/// Where a base URL points. Only http and https are accepted.
struct http_endpoint
{
    bool tls = false;
    std::string host;      // IPv6 literals without brackets
    std::uint16_t port = 0;
    std::string path;      // path prefix without a trailing slash: "", "/v1", "/api/v1"
    std::string userinfo;  // "user:password" (proxies only), percent-decoded

    /// Parses "https://host[:port][/prefix]". Errors: boost::url's, or invalid_argument for
    /// another scheme or a missing host.
    static boost::system::result<http_endpoint> parse(std::string_view url);

    /// "host" or "host:port" (port omitted when it is the scheme's default), for Host/CONNECT.
    std::string authority() const;
    /// The connection-pool key: scheme, host and port.
    std::string pool_key() const;
};

/// HTTPS_PROXY / NO_PROXY. Only https endpoints are proxied (through CONNECT); plain http is
/// meant for loopback and local servers and always goes direct.
struct proxy_settings
{
    std::string https_proxy;  // "http://[user:pass@]host:port"; empty means none
    std::string no_proxy;     // comma-separated hosts or domain suffixes, "*" for all

    /// HTTPS_PROXY (or https_proxy) and NO_PROXY (or no_proxy) from the process environment.
    static proxy_settings from_environment();
    /// The proxy to tunnel through to reach `target`, or nothing for a direct connection.
    std::optional<http_endpoint> proxy_for(const http_endpoint& target) const;
};

/// Idle keep-alive connections per (scheme, host, port). A connection goes back only after
/// its response was read completely; a cancelled, timed-out or failed one is closed instead.
///
/// @par Thread safety
/// Safe to share between exchanges on different threads (an internal mutex), but the
/// connections are bound to the executor they were opened on: use one pool per io_context.
class connection_pool
{
public:
    explicit connection_pool(std::size_t max_idle_per_host = 8);
    ~connection_pool();
    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;

    /// Connections ever opened through this pool (tests assert reuse with it).
    std::uint64_t connections_opened() const noexcept;
    /// Idle connections held right now.
    std::size_t idle_count() const;
    /// Closes every idle connection.
    void clear();

    struct impl;
    impl& get_impl() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

struct transport_options
{
    timeout_config timeouts;                              // connect, first_byte, idle are used here
                                                          // (first_token: see set_first_token_timeout)
    std::shared_ptr<boost::asio::ssl::context> tls;       // required for https endpoints
    bool verify_peer = true;                              // host name and chain; tests only turn it off
    std::shared_ptr<connection_pool> pool;                // null: one connection per exchange
    std::optional<http_endpoint> proxy;                   // from proxy_settings::proxy_for
    std::shared_ptr<spdlog::logger> log;                  // null: no logging
};

/// One request and its response on one connection.
///
/// Error codes (with `diag.message` saying what happened, never the request headers):
/// - provider_errc::connect_timeout / first_byte_timeout / idle_timeout: the named timeout
///   (connect covers DNS, TCP, proxy CONNECT and the TLS handshake; first_byte covers the
///   request write and the response header; idle is re-armed before every body read);
/// - provider_errc::first_token_timeout: set_first_token_timeout's limit passed before
///   first_content() was called (during the header wait or any body read);
/// - provider_errc::connect_failed: DNS, refused, proxy refused, or reset before the header;
/// - provider_errc::tls_failed: handshake or certificate verification failed;
/// - provider_errc::stream_truncated: the connection failed in the middle of the body;
/// - asio::error::operation_aborted: the awaiting coroutine was cancelled (never a timeout).
///
/// @par Per-operation cancellation
/// Terminal and partial (they close the connection). The object must outlive its operations.
/// Not thread safe: one coroutine drives it.
class http_exchange
{
public:
    http_exchange(boost::asio::any_io_executor ex, transport_options opts);
    ~http_exchange();  // pools the connection if its response was read completely
    http_exchange(const http_exchange&) = delete;
    http_exchange& operator=(const http_exchange&) = delete;

    /// Connects (or takes a pooled connection), writes `req` and reads the response header.
    /// Host, User-Agent and Content-Length are added when `req` lacks them. A pooled
    /// connection the server had closed is replaced by a fresh one, transparently.
    boost::asio::awaitable<boost::system::error_code> start(const http_endpoint& target,
                                                            const http_request& req, diagnostics& diag);

    /// The first-token limit of this exchange: counted from the moment the request has been
    /// written until first_content() is called, it also ends the header wait and every body
    /// read (whichever limit is nearer wins). Call before start(); 0 = none.
    void set_first_token_timeout(std::chrono::milliseconds limit) noexcept;
    /// The caller decoded the first content: the first-token limit no longer applies.
    void first_content() noexcept;

    /// Valid after a successful start().
    const http_response_head& head() const noexcept;

    /// Reads the next body bytes into `out` (replacing its contents). An empty `out` with no
    /// error means the body is complete (see body_done()).
    boost::asio::awaitable<boost::system::error_code> read_some(std::string& out, diagnostics& diag);

    /// Reads the rest of the body into `out`, keeping at most `limit` bytes (the rest is read
    /// and dropped, so the connection stays reusable).
    boost::asio::awaitable<boost::system::error_code> read_all(std::string& out, std::size_t limit,
                                                               diagnostics& diag);

    /// After the provider's terminal event: reads and drops what is left of the body (usually
    /// just the chunked terminator), waiting at most `max_wait` for each read, so that the
    /// connection can be pooled. Never fails: a connection that does not finish is closed.
    boost::asio::awaitable<void> discard_rest(std::chrono::milliseconds max_wait);

    bool body_done() const noexcept;
    /// Closes the connection now; it will not be pooled.
    void close() noexcept;
    /// Whether start() used a pooled connection (tests).
    bool reused_connection() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::providers
