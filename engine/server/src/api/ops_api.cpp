// /healthz (the process answers), /readyz (the store answers too), /metrics (Prometheus text)
// and /v1/openapi.json (the document in schemas/, compiled in).
#include "api/api_common.hpp"
#include "server_impl.hpp"

#include <spdlog/logger.h>

namespace ep::server {

namespace {

asio::awaitable<void> healthz(server::impl&, request_context& ctx)
{
    // (Bodies are named, not braced lists inside the co_await: g++ 12 rejects those.)
    const json ok = {{"status", "ok"}};
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, ok));
}

asio::awaitable<void> readyz(server::impl& s, request_context& ctx)
{
    runtime::run_query probe;
    probe.limit = 1;
    auto r = co_await s.rt.find_runs(probe);
    if (!r)
    {
        s.log->warn("/readyz: the store does not answer: {}", r.error().message);
        const json down = {{"status", "unavailable"}, {"store", "unreachable"}};
        co_return co_await reply(ctx, json_response(ctx.req, http::status::service_unavailable, down));
    }
    const json ready = {{"status", "ready"}, {"store", "ok"}, {"runs_in_flight", s.registry.size()}};
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, ready));
}

asio::awaitable<void> metrics(server::impl& s, request_context& ctx)
{
    metrics_snapshot now;
    now.runs_in_flight = s.registry.size();
    now.sse_subscribers = s.sse_streams;
    now.open_connections = s.connections.size();
    now.circuits = s.rt.failover().circuits().get();
    response res{http::status::ok, ctx.req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(ctx.req.keep_alive());
    res.body() = s.metrics.render(now);
    res.prepare_payload();
    co_await ctx.out.send(std::move(res));
}

asio::awaitable<void> openapi(server::impl& s, request_context& ctx)
{
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, s.openapi));
}

}  // namespace

void add_ops_routes(server::impl& s)
{
    auto bind = [&s](asio::awaitable<void> (*fn)(server::impl&, request_context&)) {
        return [&s, fn](request_context& ctx) { return fn(s, ctx); };
    };
    s.routes.add(http::verb::get, "/healthz", bind(healthz), {.public_route = true});
    s.routes.add(http::verb::get, "/readyz", bind(readyz), {.public_route = true});
    s.routes.add(http::verb::get, "/metrics", bind(metrics));
    s.routes.add(http::verb::get, "/v1/openapi.json", bind(openapi));
}

}  // namespace ep::server
