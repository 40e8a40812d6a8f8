// http_provider: one streamed call over the transport.

#include "adapters/http_provider.hpp"

#include <ep/providers/call_deadline.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <optional>

namespace ep::providers::adapters {

namespace {

using boost::system::error_code;

// An error body is read whole (PROVIDERS.md §8.8) but only this much of it is kept.
constexpr std::size_t error_body_limit = 64 * 1024;
// After the terminal event, how long the rest of the body may take to arrive before the
// connection is given up instead of pooled.
constexpr std::chrono::milliseconds drain_wait{250};

call_status failure(error_code ec, diagnostics diag)
{
    return {ec, std::move(diag)};
}

asio::awaitable<call_status> aborted_or(error_code ec, diagnostics diag)
{
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
    {
        diag.message = "cancelled";
        co_return failure(asio::error::operation_aborted, std::move(diag));
    }
    co_return failure(ec, std::move(diag));
}

}  // namespace

http_provider::http_provider(asio::any_io_executor ex, provider_config cfg, http_endpoint endpoint,
                             transport_options opts, http_codec codec)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      endpoint_(std::move(endpoint)),
      opts_(std::move(opts)),
      codec_(std::move(codec))
{
}

asio::awaitable<call_status> http_provider::stream_chat(const chat_request& req, event_channel& out)
{
    co_return co_await run_with_total_timeout(run(req, out), cfg_.timeouts.total);
}

asio::awaitable<call_status> http_provider::run(const chat_request& req, event_channel& out)
{
    const sansio::http_request_spec spec = codec_.encode(cfg_, endpoint_.path, req);
    http_request hreq{.method = spec.method, .target = spec.target, .headers = spec.headers, .body = spec.body};
    for (const auto& [name, value] : cfg_.extra_headers)
        if (!find_http_header(hreq.headers, name))
            hreq.headers.emplace_back(name, value);

    http_exchange x(ex_, opts_);
    diagnostics diag;
    if (auto ec = co_await x.start(endpoint_, hreq, diag))
        co_return failure(ec, std::move(diag));

    const int status = x.head().status;
    if (opts_.log)
        opts_.log->debug("{}: HTTP {} from {}", cfg_.name, status, endpoint_.pool_key());

    if (status < 200 || status > 299)
    {
        std::string body;
        auto ec = co_await x.read_all(body, error_body_limit, diag);
        if (ec == asio::error::operation_aborted)
            co_return failure(ec, std::move(diag));
        // A body cut short still says something; the status decides the class anyway.
        diagnostics classified;
        auto cec = sansio::classify_http_error(codec_.protocol, status, x.head().headers, body, classified);
        co_return failure(cec, std::move(classified));
    }

    auto decoder = codec_.make_decoder();
    std::vector<stream_event> events;
    std::string bytes;

    // The finish event is held back until the body has ended cleanly: it is sent only when the
    // whole call succeeded (provider.hpp).
    std::optional<stream_event> finish;

    // Hands the decoded events to the consumer, waiting for room (backpressure).
    auto deliver = [&]() -> asio::awaitable<error_code> {
        for (auto& ev : events)
        {
            if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            {
                x.close();
                co_return asio::error::operation_aborted;
            }
            if (std::holds_alternative<finish_event>(ev))
            {
                finish = std::move(ev);
                continue;
            }
            auto [sec] = co_await out.async_send(error_code{}, std::move(ev), asio::as_tuple(asio::use_awaitable));
            if (sec)
            {
                x.close();
                diag.message = "the consumer stopped receiving";
                co_return asio::error::operation_aborted;
            }
        }
        events.clear();
        co_return error_code{};
    };

    while (!decoder->done())
    {
        if (auto ec = co_await x.read_some(bytes, diag))
            co_return failure(ec, std::move(diag));
        if (bytes.empty())
            break;  // end of body
        const error_code dec = decoder->feed(bytes, events, diag);
        if (dec)
            x.close();
        if (auto sec = co_await deliver())
            co_return co_await aborted_or(sec, std::move(diag));
        if (dec)
            co_return failure(dec, std::move(diag));
    }

    const error_code fin = decoder->finish(events, diag);
    if (fin)
        x.close();
    if (auto sec = co_await deliver())
        co_return co_await aborted_or(sec, std::move(diag));
    if (fin)
        co_return failure(fin, std::move(diag));
    if (!finish)
    {
        // A successful call ends with a finish event; a decoder that ends cleanly without one
        // must not turn a cut stream into a success.
        x.close();
        diag.message = "the stream ended without a finish event";
        co_return failure(provider_errc::stream_truncated, std::move(diag));
    }
    if (auto [sec] = co_await out.async_send(error_code{}, std::move(*finish), asio::as_tuple(asio::use_awaitable)); sec)
    {
        x.close();
        co_return co_await aborted_or(asio::error::operation_aborted, std::move(diag));
    }
    co_await x.discard_rest(drain_wait);
    co_return call_status{};
}

}  // namespace ep::providers::adapters
