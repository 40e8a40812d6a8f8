#include <ep/engine/routing/time_source.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tuple>

namespace ep::engine {

namespace {

class steady_time_source final : public time_source
{
public:
    time_point now() const override { return clock::now(); }

    asio::awaitable<boost::system::error_code> sleep_for(duration d) override
    {
        // Asio would throw when a cancelled coroutine awaits; we want an error code instead, and
        // restore the caller's setting afterwards.
        const bool previous = co_await asio::this_coro::throw_if_cancelled();
        co_await asio::this_coro::throw_if_cancelled(false);
        boost::system::error_code ec;
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            ec = asio::error::operation_aborted;
        else
        {
            asio::steady_timer timer(co_await asio::this_coro::executor, d);
            std::tie(ec) = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!ec && (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
                ec = asio::error::operation_aborted;
        }
        co_await asio::this_coro::throw_if_cancelled(previous);
        co_return ec;
    }
};

}  // namespace

std::shared_ptr<time_source> make_steady_time_source()
{
    static const auto instance = std::make_shared<steady_time_source>();
    return instance;
}

}  // namespace ep::engine
