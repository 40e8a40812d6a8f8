#include <ep/engine/routing/async_semaphore.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ep::engine {

// Each waiter parks on a timer that never expires; release() marks it granted and cancels
// the timer. A wait that ends without the grant was cancelled by the waiter's coroutine.
struct async_semaphore::waiter
{
    explicit waiter(asio::any_io_executor ex) : timer(std::move(ex), asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
};

async_semaphore::async_semaphore(std::size_t permits) : available_(permits) {}

bool async_semaphore::try_acquire() noexcept
{
    if (available_ == 0 || !waiters_.empty())
        return false;
    --available_;
    return true;
}

asio::awaitable<boost::system::error_code> async_semaphore::acquire()
{
    const bool previous = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    boost::system::error_code result;
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
        result = asio::error::operation_aborted;
    else if (!try_acquire())
    {
        auto w = std::make_shared<waiter>(co_await asio::this_coro::executor);
        waiters_.push_back(w);
        co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        const bool cancelled =
            (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
        if (w->granted && cancelled)
        {
            release();  // granted and cancelled in the same turn: pass the permit on
            result = asio::error::operation_aborted;
        }
        else if (!w->granted)
        {
            waiters_.remove(w);
            result = asio::error::operation_aborted;
        }
    }
    co_await asio::this_coro::throw_if_cancelled(previous);
    co_return result;
}

void async_semaphore::release()
{
    if (waiters_.empty())
    {
        ++available_;
        return;
    }
    auto w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->timer.cancel();
}

}  // namespace ep::engine
