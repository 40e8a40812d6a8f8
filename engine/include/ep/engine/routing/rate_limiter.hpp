#pragma once
// rate_limiter: token buckets for requests per minute and tokens per minute, with an
// awaitable wait; provider_limits: the per-provider concurrency and rate limits from config.

#include <ep/engine/routing/async_semaphore.hpp>
#include <ep/engine/routing/limits_config.hpp>
#include <ep/engine/routing/time_source.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace ep::engine {

struct rate_limit_config
{
    double requests_per_minute = 0;  // 0 = unlimited
    double tokens_per_minute = 0;    // 0 = unlimited
};

/// Two token buckets that start full (a minute's worth) and refill continuously.
///
/// @par Thread safety
/// Strand-confined, like async_semaphore.
class rate_limiter
{
public:
    rate_limiter(rate_limit_config cfg, std::shared_ptr<time_source> time);

    /// Waits until one request and `tokens` tokens fit, then takes them. A token demand larger
    /// than the bucket is clamped to the bucket so that it cannot wait forever.
    ///
    /// @returns empty, or asio::error::operation_aborted on terminal cancellation (nothing is
    /// taken then).
    asio::awaitable<boost::system::error_code> acquire(std::int64_t tokens);

    /// Corrects the token bucket once the real usage is known (`delta` = actual − reserved);
    /// a positive delta may leave the bucket in debt, which delays later callers.
    void adjust_tokens(std::int64_t delta);

    /// How long acquire(tokens) would wait now (zero when it would proceed at once).
    std::chrono::milliseconds wait_time(std::int64_t tokens);

private:
    void refill();

    rate_limit_config cfg_;
    std::shared_ptr<time_source> time_;
    double requests_;
    double tokens_;
    time_source::time_point last_;
};

/// What one attempt holds while it runs: a concurrency permit and its rate reservation.
/// Destroying it frees the permit; settle() corrects the token bucket with the real usage.
class limit_lease
{
public:
    limit_lease() = default;
    limit_lease(semaphore_permit permit, std::shared_ptr<rate_limiter> limiter, std::int64_t reserved)
        : permit_(std::move(permit)), limiter_(std::move(limiter)), reserved_(reserved)
    {
    }
    void settle(std::int64_t actual_tokens)
    {
        if (limiter_)
            limiter_->adjust_tokens(actual_tokens - reserved_);
        limiter_.reset();
    }

private:
    semaphore_permit permit_;
    std::shared_ptr<rate_limiter> limiter_;
    std::int64_t reserved_ = 0;
};

/// Per-provider limits, keyed by provider name; providers without a configuration are
/// unlimited. Share one instance across the runs of a process.
///
/// @par Thread safety
/// Strand-confined (configure before use, then call from the io_context's strand).
class provider_limits
{
public:
    explicit provider_limits(std::shared_ptr<time_source> time);

    void configure(const std::string& provider, provider_limit_config cfg);

    /// Waits for a concurrency slot of `provider`, then for its rate budget (one request and
    /// `estimated_tokens`). On terminal cancellation returns operation_aborted holding nothing.
    asio::awaitable<boost::system::error_code> acquire(const std::string& provider, std::int64_t estimated_tokens,
                                                       limit_lease& lease);

private:
    struct entry
    {
        std::unique_ptr<async_semaphore> concurrency;
        std::shared_ptr<rate_limiter> rate;
    };
    std::shared_ptr<time_source> time_;
    std::map<std::string, entry> entries_;
};

}  // namespace ep::engine
