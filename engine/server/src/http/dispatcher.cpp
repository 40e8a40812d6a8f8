// The front door: every request is routed (404/405), authenticated (401), rate-limited (429),
// decorated for CORS when a browser origin is allowed, and handed to its handler, which must
// answer exactly once. A handler that throws is logged and answered 500 without details.
#include "http/request_reading.hpp"
#include "server_impl.hpp"

#include <spdlog/logger.h>

namespace ep::server {

namespace {

// Adds the server's common headers to whatever the handler sends, and counts the status.
class decorated_sink final : public response_sink
{
public:
    decorated_sink(response_sink& inner, server_metrics& m, std::string allow_origin)
        : inner_(inner), metrics_(m), allow_origin_(std::move(allow_origin))
    {
    }

    asio::awaitable<boost::system::error_code> send(response res) override
    {
        decorate(res);
        metrics_.http_response(res.result_int());
        co_return co_await inner_.send(std::move(res));
    }
    asio::awaitable<boost::system::error_code> start_stream(http::response<http::empty_body> head) override
    {
        decorate(head);
        metrics_.http_response(head.result_int());
        co_return co_await inner_.start_stream(std::move(head));
    }
    asio::awaitable<boost::system::error_code> write(std::string_view data) override
    {
        co_return co_await inner_.write(data);
    }
    asio::awaitable<boost::system::error_code> finish() override { co_return co_await inner_.finish(); }
    bool started() const noexcept override { return inner_.started(); }

private:
    template <class Message>
    void decorate(Message& m)
    {
        m.set(http::field::server, "ep-serve");
        if (!allow_origin_.empty())
        {
            m.set(http::field::access_control_allow_origin, allow_origin_);
            m.set(http::field::vary, "Origin");
            m.set(http::field::access_control_expose_headers, "x-ep-provider, x-ep-model, retry-after");
        }
    }

    response_sink& inner_;
    server_metrics& metrics_;
    std::string allow_origin_;
};

response preflight(const request& req, const std::string& origin)
{
    response res{http::status::no_content, req.version()};
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::vary, "Origin");
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers, "authorization, content-type, last-event-id, x-ep-mix");
    res.set(http::field::access_control_max_age, "600");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

}  // namespace

asio::awaitable<void> server::impl::handle(const request& req, response_sink& raw, const std::string& peer)
{
    std::string allow_origin;
    if (!cfg.cors_origin.empty())
        if (auto o = req.find(http::field::origin); o != req.end() && std::string_view(o->value()) == cfg.cors_origin)
            allow_origin = cfg.cors_origin;
    decorated_sink out(raw, metrics, allow_origin);

    auto target = parse_request_target(req.target());
    if (!target)
    {
        co_await out.send(error_response(req, http::status::bad_request, "invalid_request_error", "malformed request target"));
        co_return;
    }
    if (req.method() == http::verb::options && !allow_origin.empty())
    {
        co_await raw.send(preflight(req, allow_origin));
        co_return;
    }
    auto matched = routes.match(req.method(), target->path);
    if (matched.kind == route_table::outcome::not_found)
    {
        co_await out.send(error_response(req, http::status::not_found, "not_found_error", "no such endpoint: " + target->path));
        co_return;
    }
    if (matched.kind == route_table::outcome::method_not_allowed)
    {
        auto res = error_response(req, http::status::method_not_allowed, "method_not_allowed",
                                  std::string(req.method_string()) + " is not allowed on " + target->path);
        res.set(http::field::allow, allow_header(matched.allowed));
        co_await out.send(std::move(res));
        co_return;
    }
    std::string principal = "anonymous@" + peer;
    if (auth.enabled() && !matched.found->options.public_route)
    {
        auto h = req.find(http::field::authorization);
        auto who = h == req.end() ? std::nullopt : auth.authenticate(h->value());
        if (!who)
        {
            auto res = error_response(req, http::status::unauthorized, "authentication_error",
                                      h == req.end() ? "missing bearer token (Authorization: Bearer TOKEN)"
                                                     : "invalid bearer token",
                                      "invalid_api_key");
            res.set(http::field::www_authenticate, "Bearer");
            co_await out.send(std::move(res));
            co_return;
        }
        principal = *who;
    }
    if (!matched.found->options.public_route)
        if (auto wait = limiter.admit(principal))
        {
            auto res = error_response(req, http::status::too_many_requests, "rate_limit_error",
                                      "too many requests: retry in " + std::to_string(wait->count()) + " ms",
                                      "rate_limit_exceeded");
            res.set(http::field::retry_after, std::to_string((wait->count() + 999) / 1000));
            co_await out.send(std::move(res));
            co_return;
        }

    request_context ctx{req, out, std::move(target->path), std::move(matched.params), std::move(target->query),
                        std::move(principal)};
    std::exception_ptr failure;
    try
    {
        co_await matched.found->handler(ctx);
    }
    catch (const std::exception& e)
    {
        log->error("{} {}: handler failed: {}", std::string(req.method_string()), ctx.path, e.what());
        failure = std::current_exception();
    }
    if (!out.started())
    {
        if (!failure)
            log->error("{} {}: the handler sent no response", std::string(req.method_string()), ctx.path);
        co_await out.send(error_response(req, http::status::internal_server_error, "api_error", "internal error"));
    }
}

}  // namespace ep::server
