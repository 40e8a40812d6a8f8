// stream_call / complete: one provider call through a bounded channel, consumed as it arrives.

#include <ep/providers/provider.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace ep::providers {

namespace {

using boost::system::error_code;

// The end of the stream travels through the channel behind the buffered events (closing the
// channel would drop them).
const error_code end_of_stream = asio::error::eof;

asio::awaitable<call_status> produce(provider& p, const chat_request& req, event_channel& ch)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    call_status status = co_await p.stream_chat(req, ch);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() == asio::cancellation_type::none)
        co_await ch.async_send(end_of_stream, stream_event{}, asio::as_tuple(asio::use_awaitable));
    co_return status;
}

asio::awaitable<void> consume(event_channel& ch, const event_callback& on_event, chat_response& out,
                              std::exception_ptr& callback_error)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    for (;;)
    {
        // A cancel that arrived while this coroutine was running (e.g. emitted from the
        // callback) has no operation to cancel: check before waiting again.
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            break;
        auto [ec, ev] = co_await ch.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec)
            break;  // end_of_stream, or cancelled
        out.apply(ev);
        if (!on_event)
            continue;
        try
        {
            on_event(ev);
        }
        catch (...)
        {
            callback_error = std::current_exception();  // rethrown by stream_call once the producer stopped
            break;
        }
    }
    // Unblocks a producer waiting in async_send for room that will never come.
    ch.close();
}

}  // namespace

asio::awaitable<call_result> stream_call(provider& p, const chat_request& req, event_callback on_event)
{
    auto ex = co_await asio::this_coro::executor;
    event_channel ch(ex, event_channel_capacity);
    call_result result;
    result.response.model = req.model;

    std::exception_ptr callback_error;

    // Both halves run until they finish; a cancellation of this coroutine reaches both.
    auto [order, producer_ex, status, consumer_ex] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, produce(p, req, ch), asio::deferred),
                                                         asio::co_spawn(ex, consume(ch, on_event, result.response, callback_error),
                                                                        asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (producer_ex)
        std::rethrow_exception(producer_ex);
    if (consumer_ex)
        std::rethrow_exception(consumer_ex);
    if (callback_error)
        std::rethrow_exception(callback_error);

    result.status = std::move(status);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none && result.status.ok())
    {
        // Cancelled after the provider finished but before every event was handed over.
        result.status.ec = asio::error::operation_aborted;
        result.status.diag.message = "cancelled";
    }
    co_return result;
}

asio::awaitable<call_result> complete(provider& p, const chat_request& req)
{
    co_return co_await stream_call(p, req, nullptr);
}

}  // namespace ep::providers

