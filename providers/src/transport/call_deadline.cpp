// The total timeout: the call races a timer in a parallel group; whichever finishes first
// cancels the other, and the group waits for both, so nothing outlives the call.

#include <ep/providers/call_deadline.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace ep::providers {

namespace {

/// The entry point of the call's own coroutine thread: it reports a cancellation as an
/// error code (throw_if_cancelled(false)) and accepts every cancellation type.
asio::awaitable<call_status> guarded(asio::awaitable<call_status> op)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_return co_await std::move(op);
}

}  // namespace

asio::awaitable<call_status> run_with_total_timeout(asio::awaitable<call_status> op, std::chrono::milliseconds total)
{
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, total);

    auto [order, ex_ptr, status, timer_ec] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, guarded(std::move(op)), asio::deferred),
                                                         timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);

    if (ex_ptr)
        std::rethrow_exception(ex_ptr);  // a bug in the call, not an expected outcome
    // The timer completing without error first means the deadline passed; the call has
    // since been cancelled and its own result (operation_aborted) is not what happened.
    if (order[0] == 1 && !timer_ec)
    {
        call_status timed_out;
        timed_out.ec = provider_errc::total_timeout;
        timed_out.diag = std::move(status.diag);
        timed_out.diag.message = "total timeout: the call took longer than " + std::to_string(total.count()) + " ms";
        co_return timed_out;
    }
    co_return status;
}

}  // namespace ep::providers
