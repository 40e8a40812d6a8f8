#include "routing/stream_attempt.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ep::engine::detail {

namespace {

bool cancelled(asio::cancellation_state st) { return st.cancelled() != asio::cancellation_type::none; }

// The two halves are plain functions, not capturing lambdas, and pass only named objects to
// co_await expressions: g++ 12 relocates temporaries of a co_await operand bitwise, which
// corrupts short (SSO) std::strings inside a stream_event.

// The provider never closes the channel, so the producer ends the stream with a marker (eof).
// After a cancel there is no marker: the consumer is being cancelled as well.
asio::awaitable<providers::call_status> produce(providers::provider& p, const providers::chat_request& req,
                                                providers::event_channel& channel)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    providers::call_status status = co_await p.stream_chat(req, channel);
    if (!cancelled(co_await asio::this_coro::cancellation_state))
    {
        providers::stream_event marker;  // named: see above
        boost::system::error_code eof = asio::error::eof;
        co_await channel.async_send(eof, std::move(marker), asio::as_tuple(asio::use_awaitable));
    }
    co_return status;
}

asio::awaitable<void> consume(providers::event_channel& channel, attempt_outcome& out,
                              const std::function<void(const providers::stream_event&)>& on_event)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;)
    {
        std::tuple<boost::system::error_code, providers::stream_event> received =
            co_await channel.async_receive(asio::as_tuple(asio::use_awaitable));
        if (std::get<0>(received))
            co_return;
        const providers::stream_event& ev = std::get<1>(received);
        if (out.response.apply(ev))
            out.finished = true;
        if (std::holds_alternative<providers::text_delta_event>(ev) ||
            std::holds_alternative<providers::tool_call_delta_event>(ev) ||
            std::holds_alternative<providers::tool_call_complete_event>(ev))
            out.streamed_output = true;
        if (on_event)
            on_event(ev);
    }
}

}  // namespace

asio::awaitable<attempt_outcome> stream_attempt(providers::provider& p, const providers::chat_request& req,
                                                const std::function<void(const providers::stream_event&)>& on_event)
{
    using namespace asio::experimental::awaitable_operators;
    providers::event_channel channel(co_await asio::this_coro::executor, providers::event_channel_capacity);
    attempt_outcome out;
    out.status = co_await (produce(p, req, channel) && consume(channel, out, on_event));
    co_return out;
}

}  // namespace ep::engine::detail
