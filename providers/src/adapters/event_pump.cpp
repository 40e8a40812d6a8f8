#include "adapters/event_pump.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace ep::providers::adapters {

namespace {

using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<bool> is_cancelled()
{
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() != asio::cancellation_type::none;
}

class pump
{
public:
    pump(byte_source& src, sansio::stream_decoder& dec, event_channel& out, diagnostics& diag)
        : src_(src), dec_(dec), out_(out), diag_(diag)
    {
    }

    // Straight-line on purpose: GCC 12 mis-compiled an earlier shape of this loop (a
    // `co_return co_await` of a member coroutine inside the loop resumed a finished frame).
    asio::awaitable<pump_result> run(bool read_to_end)
    {
        error_code ec;
        std::string bytes;
        while (read_to_end || !dec_.done())
        {
            ec = co_await src_.read(bytes, diag_);
            if (ec || bytes.empty())
                break;  // an error, or the bytes ended
            const error_code dec = dec_.feed(bytes, events_, diag_);
            if (dec)
                src_.abort();
            else if (!content_seen_ && dec_.content_started())
            {
                content_seen_ = true;
                src_.first_content();
            }
            ec = co_await deliver();
            if (!ec)
                ec = dec;
            if (ec)
                break;
        }
        if (!ec)
        {
            const error_code fin = dec_.finish(events_, diag_);
            if (fin)
                src_.abort();
            ec = co_await deliver();
            if (!ec)
                ec = fin;
        }
        if (!ec && !finish_)
        {
            // A decoder that ends cleanly without a finish event must not turn a cut stream
            // into a success.
            src_.abort();
            diag_.message = "the stream ended without a finish event";
            ec = provider_errc::stream_truncated;
        }
        if (!ec)
            co_return pump_result{{}, std::move(finish_)};
        const bool cancelled = co_await is_cancelled();
        co_return failed(ec, cancelled);
    }

private:
    // Hands the decoded events to the consumer, waiting for room.
    asio::awaitable<error_code> deliver()
    {
        for (auto& ev : events_)
        {
            if (co_await is_cancelled())
            {
                src_.abort();
                co_return asio::error::operation_aborted;
            }
            if (std::holds_alternative<finish_event>(ev))
            {
                finish_ = std::move(ev);
                continue;
            }
            auto [sec] = co_await out_.async_send(error_code{}, std::move(ev), use_tuple);
            if (sec)
            {
                src_.abort();
                diag_.message = "the consumer stopped receiving";
                co_return asio::error::operation_aborted;
            }
        }
        events_.clear();
        co_return error_code{};
    }

    // A cancel is reported as such, whatever error it caused on the way.
    pump_result failed(error_code ec, bool cancelled)
    {
        if (cancelled)
        {
            src_.abort();
            diag_.message = "cancelled";
            return pump_result{asio::error::operation_aborted, std::nullopt};
        }
        if (ec == asio::error::operation_aborted)
            src_.abort();
        return pump_result{ec, std::nullopt};
    }

    byte_source& src_;
    sansio::stream_decoder& dec_;
    event_channel& out_;
    diagnostics& diag_;
    std::vector<stream_event> events_;
    std::optional<stream_event> finish_;
    bool content_seen_ = false;
};

}  // namespace

asio::awaitable<pump_result> decode_and_deliver(byte_source& src, sansio::stream_decoder& dec, event_channel& out,
                                                diagnostics& diag, bool read_to_end)
{
    pump p(src, dec, out, diag);
    co_return co_await p.run(read_to_end);
}

asio::awaitable<error_code> deliver_finish(event_channel& out, stream_event finish)
{
    auto [sec] = co_await out.async_send(error_code{}, std::move(finish), use_tuple);
    co_return sec ? error_code(asio::error::operation_aborted) : error_code{};
}

}  // namespace ep::providers::adapters
