#pragma once
// ep::server — ep-serve as a library (DESIGN.md "Server"): the HTTP API over the runtime
// (runs, live SSE events, workflows), the OpenAI-compatible gateway, /metrics, /healthz,
// /readyz and the OpenAPI document, on one Beast HTTP/1.1 listener (optionally TLS). A thin
// `ep-serve` main parses flags into a server_config and a runtime_config and calls this.

#include <ep/runtime/run_registry.hpp>
#include <ep/runtime/runtime.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ep::server {

using namespace std::chrono_literals;

struct server_config
{
    std::string listen = "127.0.0.1:8080";  // HOST:PORT (port 0: any free port, see server::port)
    /// Bearer tokens. Empty: no authentication, and then only a loopback `listen` is accepted.
    std::vector<std::string> tokens;
    double rate_limit = 0;     // requests per second per caller (token, or peer address); 0: off
    double rate_burst = 0;     // bucket size; 0: max(rate_limit, 1)
    std::string cors_origin;   // the one Origin allowed to call from a browser; empty: CORS off
    std::filesystem::path tls_cert;  // both set: HTTPS only
    std::filesystem::path tls_key;
    std::vector<std::filesystem::path> workflow_dirs;  // `--workflows DIR`, searched before the shipped ones
    std::string default_mix = "A";                     // runs and persona/NAME calls without a mix
    /// Workflows submitted as YAML may carry `providers:` sections only with this on: such a
    /// section can point a provider (and the server's key for it) at any host.
    bool allow_inline_providers = false;

    std::size_t max_body_bytes = 4u << 20;      // request body limit (parser.body_limit)
    std::size_t max_header_bytes = 16u << 10;   // request header limit
    std::size_t max_connections = 10000;
    /// Reading a request's header, and waiting for the next one on a kept-alive connection: a
    /// client that trickles its header (slowloris) is cut off here.
    std::chrono::milliseconds header_timeout = 10s;
    std::chrono::milliseconds body_timeout = 30s;   // reading the body once the header is in
    std::chrono::milliseconds write_timeout = 30s;  // writing one response or one chunk
    std::chrono::milliseconds sse_heartbeat = 15s;  // a comment line on idle event streams
    /// How often an event stream re-reads the store for a run that another process executes.
    std::chrono::milliseconds sse_poll_interval = 1s;
    std::size_t sse_queue_capacity = 8192;          // events a slow SSE client may lag behind
    std::chrono::milliseconds chat_timeout = 10min; // one gateway call, retries included
    bool resume_owned_runs = true;                  // at start (a restart): see run_registry::resume_owned
    std::chrono::milliseconds shutdown_grace = 10s; // stop(): how long runs get to record their end
};

/// The outcome of start(): empty when listening, else why not (one line for people).
struct start_error
{
    std::string message;
};

/// @par Thread safety
/// Strand-confined: everything runs on the io_context the runtime runs on (one thread).
class server
{
public:
    /// `rt` must outlive the server.
    server(boost::asio::io_context& ioc, runtime::runtime& rt, server_config cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Checks the configuration (no tokens ⇒ loopback only; TLS files load), opens the store,
    /// binds and listens, then resumes this identity's unfinished runs. nullopt on success.
    boost::asio::awaitable<std::optional<start_error>> start();
    /// Stops accepting, stops the runs in flight (they record themselves interrupted, at most
    /// shutdown_grace), closes every connection.
    boost::asio::awaitable<void> stop();

    std::uint16_t port() const noexcept;
    /// "http(s)://HOST:PORT".
    std::string base_url() const;
    const server_config& config() const noexcept;
    runtime::run_registry& registry() noexcept;
    /// Every (METHOD, PATTERN) the server routes (the OpenAPI document must match it).
    std::vector<std::pair<std::string, std::string>> routes() const;

    struct impl;
    impl& get_impl() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::server
