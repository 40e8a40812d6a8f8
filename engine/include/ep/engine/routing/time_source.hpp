#pragma once
// time_source: the clock and the sleeps of the resilience layer, behind one seam so that
// backoff, rate limits and circuit cooldowns can be tested on virtual time while production
// uses a real steady_timer.

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>

namespace ep::engine {

namespace asio = boost::asio;

class time_source
{
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    virtual ~time_source() = default;

    virtual time_point now() const = 0;

    /// Waits for `d` on the calling coroutine's executor.
    ///
    /// Returns an empty error_code when the time has passed, or asio::error::operation_aborted
    /// when the awaiting coroutine received terminal cancellation (it then returns at once).
    /// Never throws for a cancellation.
    virtual asio::awaitable<boost::system::error_code> sleep_for(duration d) = 0;
};

/// The production time source: std::chrono::steady_clock and asio::steady_timer.
/// Stateless and thread-safe; one instance may be shared by everything in the process.
std::shared_ptr<time_source> make_steady_time_source();

}  // namespace ep::engine
