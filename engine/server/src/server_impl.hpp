#pragma once
// The server's private state: what every handler reaches (runtime, registry, metrics, config)
// and the front door every request passes (routing, authentication, rate limit, CORS).

#include <ep/server/server.hpp>

#include "api/workflow_catalog.hpp"
#include "http/route_table.hpp"
#include "observe/metrics.hpp"
#include "security/access.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <set>

namespace spdlog { class logger; }

namespace ep::server {

class connection;

struct server::impl
{
    impl(boost::asio::io_context& ioc, runtime::runtime& rt, server_config cfg);

    boost::asio::io_context& ioc;
    runtime::runtime& rt;
    server_config cfg;
    std::shared_ptr<spdlog::logger> log;
    runtime::run_registry registry;
    server_metrics metrics;
    token_auth auth;
    rate_limiter limiter;
    workflow_catalog catalog;
    route_table routes;
    nlohmann::json openapi;  // schemas/openapi.json, embedded at build time

    // The listener and its connections (listener.cpp).
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    std::shared_ptr<boost::asio::ssl::context> tls;
    std::set<std::shared_ptr<connection>> connections;
    std::size_t sse_streams = 0;  // event streams open now
    bool stopping = false;

    /// Routes, authenticates, rate-limits, applies CORS and calls the handler; every request
    /// gets exactly one response (500 if a handler fails to send one). No socket needed.
    asio::awaitable<void> handle(const request& req, response_sink& out, const std::string& peer);

    /// Binds and starts accepting (listener.cpp). An empty string on success.
    std::string listen();
    void close_listener();
};

// Route registration, one file per area.
void add_run_routes(server::impl& s);
void add_event_routes(server::impl& s);
void add_gateway_routes(server::impl& s);
void add_ops_routes(server::impl& s);
void add_static_routes(server::impl& s);  // the web page (api/static_api.cpp)

/// The OpenAPI document compiled into the server (schemas/openapi.json).
std::string_view embedded_openapi();

}  // namespace ep::server
