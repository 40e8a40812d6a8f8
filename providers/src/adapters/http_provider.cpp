// http_provider: one streamed call over the transport.

#include "adapters/http_provider.hpp"

#include "adapters/event_pump.hpp"
#include "adapters/secrets.hpp"

#include <ep/providers/call_deadline.hpp>

#include <spdlog/spdlog.h>

namespace ep::providers::adapters {

namespace {

using boost::system::error_code;

// An error body is read whole (the body of a failed streaming request is JSON, HTML or plain
// text, never SSE) but only this much of it is kept.
constexpr std::size_t error_body_limit = 64 * 1024;
// After the terminal event, how long the rest of the body may take to arrive before the
// connection is given up instead of pooled.
constexpr std::chrono::milliseconds drain_wait{250};

/// The response body of an exchange, as a byte_source.
class body_source final : public byte_source
{
public:
    explicit body_source(http_exchange& x) : x_(x) {}

    asio::awaitable<error_code> read(std::string& out, diagnostics& diag) override
    {
        co_return co_await x_.read_some(out, diag);
    }
    void abort() noexcept override { x_.close(); }
    void first_content() noexcept override { x_.first_content(); }

private:
    http_exchange& x_;
};

}  // namespace

http_provider::http_provider(asio::any_io_executor ex, provider_config cfg, http_endpoint endpoint,
                             transport_options opts, sansio::http_codec codec, std::vector<std::string> secrets)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      endpoint_(std::move(endpoint)),
      opts_(std::move(opts)),
      codec_(codec),
      secrets_(std::move(secrets))
{
}

asio::awaitable<call_status> http_provider::stream_chat(const chat_request& req, event_channel& out)
{
    call_status status = co_await run_with_total_timeout(run(req, out), cfg_.timeouts.total);
    // The one place every failure of this provider passes: error bodies, in-stream errors and
    // malformed-event snippets may echo the key.
    scrub_secrets(status.diag, cfg_, secrets_);
    co_return status;
}

asio::awaitable<call_status> http_provider::run(const chat_request& req, event_channel& out)
{
    http_request hreq = codec_.encode(cfg_, endpoint_.path, req);
    http_exchange x(ex_, opts_);
    x.set_first_token_timeout(req.first_token_timeout.value_or(cfg_.timeouts.first_token));
    diagnostics diag;
    if (auto ec = co_await x.start(endpoint_, hreq, diag))
        co_return call_status{ec, std::move(diag)};

    const int status = x.head().status;
    if (opts_.log)
        opts_.log->debug("{}: HTTP {} from {}", cfg_.name, status, endpoint_.pool_key());

    if (status < 200 || status > 299)
    {
        x.first_content();  // no content will come: the error body is read under the idle limit
        std::string body;
        auto ec = co_await x.read_all(body, error_body_limit, diag);
        if (ec == asio::error::operation_aborted)
            co_return call_status{ec, std::move(diag)};
        // A body cut short still says something; the status decides the class anyway.
        diagnostics classified;
        auto cec = codec_.classify_error(status, x.head().headers, body, classified);
        co_return call_status{cec, std::move(classified)};
    }

    auto decoder = codec_.make_decoder();
    body_source body(x);
    auto pumped = co_await decode_and_deliver(body, *decoder, out, diag);
    if (pumped.ec)
        co_return call_status{pumped.ec, std::move(diag)};
    if (co_await deliver_finish(out, std::move(*pumped.finish)))
    {
        x.close();
        diag.message = "cancelled";
        co_return call_status{asio::error::operation_aborted, std::move(diag)};
    }
    co_await x.discard_rest(drain_wait);
    co_return call_status{};
}

}  // namespace ep::providers::adapters
