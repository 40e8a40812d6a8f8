#pragma once
// A scripted loopback HTTP(S) server for transport and adapter tests (Beast's test_server
// idea): binds 127.0.0.1:0, runs its own io_context thread, answers each request with the
// next scripted fake_response, and records what it received. Also: test PKI generated at run
// time, and a tiny HTTP CONNECT proxy.

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ep::test {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

/// How the server answers one request.
struct fake_response
{
    enum class ending
    {
        complete,  // the body ends properly (chunk terminator / full Content-Length)
        close,     // the connection is closed right after the chunks: the body is cut
        stall,     // after the chunks nothing more is sent, and the connection stays open
    };

    int status = 200;
    header_pairs headers;             // Content-Type defaults to text/event-stream
    std::vector<std::string> chunks;  // the body, written one piece at a time
    bool chunked = true;              // false: Content-Length
    std::chrono::milliseconds first_byte_delay{0};  // before the status line
    std::chrono::milliseconds chunk_delay{0};       // before each chunk
    ending end = ending::complete;
    bool never_respond = false;       // read the request, then stay silent
    bool close_without_response = false;  // read the request, then close (reset before headers)
    bool keep_alive = true;

    /// An SSE body of `events` ("data: …" lines etc., each followed by a blank line).
    static fake_response sse(std::vector<std::string> events);
    /// A JSON error response.
    static fake_response json_error(int status, std::string body, header_pairs extra = {});
};

struct recorded_request
{
    std::string method;
    std::string target;
    header_pairs headers;
    std::string body;
    std::size_t connection = 0;  // 1-based index of the connection it arrived on

    const std::string* header(std::string_view name) const;
};

/// Certificates generated at test time with the OpenSSL C API: a CA and a server certificate
/// it signed, for the given DNS names and IP addresses. Files live in a temp dir removed by
/// the destructor.
class test_pki
{
public:
    explicit test_pki(std::vector<std::string> dns_names = {"localhost"},
                      std::vector<std::string> ip_addresses = {"127.0.0.1"});
    ~test_pki();
    test_pki(const test_pki&) = delete;
    test_pki& operator=(const test_pki&) = delete;

    const std::string& ca_file() const noexcept { return ca_file_; }  // PEM, for the client
    std::shared_ptr<boost::asio::ssl::context> server_context() const;

private:
    std::filesystem::path dir_;
    std::string ca_file_;
    std::string cert_pem_;  // server certificate
    std::string key_pem_;   // server key
};

class fake_llm_server
{
public:
    /// `tls` null: plain http.
    explicit fake_llm_server(std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
    ~fake_llm_server();
    fake_llm_server(const fake_llm_server&) = delete;
    fake_llm_server& operator=(const fake_llm_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// "http://127.0.0.1:PORT" (or https) plus `path`.
    std::string base_url(const std::string& path = "") const;

    /// Scripted responses, used in order; when none is left, the default one.
    void enqueue(fake_response r);
    void set_default(fake_response r);
    /// Computes each response from the request instead (takes precedence over the queue).
    void set_handler(std::function<fake_response(const recorded_request&)> handler);

    std::vector<recorded_request> requests() const;
    std::size_t connections_accepted() const noexcept { return accepted_.load(); }

    /// Stops the thread and drops every connection (also done by the destructor).
    void stop();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
    std::uint16_t port_ = 0;
    bool tls_ = false;
    std::atomic<std::size_t> accepted_{0};
    std::thread thread_;
    friend struct impl;
};

/// An HTTP CONNECT proxy on 127.0.0.1:0 with its own thread: tunnels to the requested
/// host:port, or answers 407 when `refuse` is set.
class fake_connect_proxy
{
public:
    explicit fake_connect_proxy(bool refuse = false);
    ~fake_connect_proxy();
    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    /// The CONNECT targets received, in order.
    std::vector<std::string> targets() const;
    /// The Proxy-Authorization values received.
    std::vector<std::string> authorizations() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace ep::test
