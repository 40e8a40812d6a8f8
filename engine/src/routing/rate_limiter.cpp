#include <ep/engine/routing/rate_limiter.hpp>

#include <algorithm>
#include <cmath>

namespace ep::engine {

namespace {

double per_ms(double per_minute) { return per_minute / 60000.0; }

}  // namespace

rate_limiter::rate_limiter(rate_limit_config cfg, std::shared_ptr<time_source> time)
    : cfg_(cfg), time_(std::move(time)), requests_(cfg.requests_per_minute), tokens_(cfg.tokens_per_minute),
      last_(time_->now())
{
}

void rate_limiter::refill()
{
    const auto now = time_->now();
    const double elapsed_ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    if (elapsed_ms <= 0)
        return;
    if (cfg_.requests_per_minute > 0)
        requests_ = std::min(cfg_.requests_per_minute, requests_ + elapsed_ms * per_ms(cfg_.requests_per_minute));
    if (cfg_.tokens_per_minute > 0)
        tokens_ = std::min(cfg_.tokens_per_minute, tokens_ + elapsed_ms * per_ms(cfg_.tokens_per_minute));
}

std::chrono::milliseconds rate_limiter::wait_time(std::int64_t tokens)
{
    refill();
    double wait_ms = 0;
    if (cfg_.requests_per_minute > 0 && requests_ < 1.0)
        wait_ms = std::max(wait_ms, (1.0 - requests_) / per_ms(cfg_.requests_per_minute));
    if (cfg_.tokens_per_minute > 0)
    {
        const double need = std::min(double(std::max<std::int64_t>(tokens, 0)), cfg_.tokens_per_minute);
        if (tokens_ < need)
            wait_ms = std::max(wait_ms, (need - tokens_) / per_ms(cfg_.tokens_per_minute));
    }
    return std::chrono::milliseconds{static_cast<std::int64_t>(std::ceil(wait_ms))};
}

asio::awaitable<boost::system::error_code> rate_limiter::acquire(std::int64_t tokens)
{
    // Several waiters may wake together; each re-checks, so the loop keeps the limit exact.
    for (;;)
    {
        const auto wait = wait_time(tokens);
        if (wait.count() <= 0)
            break;
        if (auto ec = co_await time_->sleep_for(wait))
            co_return ec;
    }
    if (cfg_.requests_per_minute > 0)
        requests_ -= 1.0;
    if (cfg_.tokens_per_minute > 0)
        tokens_ -= std::min(double(std::max<std::int64_t>(tokens, 0)), cfg_.tokens_per_minute);
    co_return boost::system::error_code{};
}

void rate_limiter::adjust_tokens(std::int64_t delta)
{
    if (cfg_.tokens_per_minute <= 0)
        return;
    refill();
    tokens_ = std::min(cfg_.tokens_per_minute, tokens_ - double(delta));
}

provider_limits::provider_limits(std::shared_ptr<time_source> time) : time_(std::move(time)) {}

void provider_limits::configure(const std::string& provider, provider_limit_config cfg)
{
    entry e;
    if (cfg.max_concurrent > 0)
        e.concurrency = std::make_unique<async_semaphore>(cfg.max_concurrent);
    if (cfg.requests_per_minute > 0 || cfg.tokens_per_minute > 0)
        e.rate = std::make_shared<rate_limiter>(rate_limit_config{cfg.requests_per_minute, cfg.tokens_per_minute},
                                                time_);
    entries_[provider] = std::move(e);
}

asio::awaitable<boost::system::error_code> provider_limits::acquire(const std::string& provider,
                                                                    std::int64_t estimated_tokens, limit_lease& lease)
{
    lease = limit_lease{};
    auto it = entries_.find(provider);
    if (it == entries_.end())
        co_return boost::system::error_code{};
    semaphore_permit permit;
    if (it->second.concurrency)
    {
        if (auto ec = co_await it->second.concurrency->acquire())
            co_return ec;
        permit = semaphore_permit{*it->second.concurrency};
    }
    std::int64_t reserved = 0;
    if (it->second.rate)
    {
        if (auto ec = co_await it->second.rate->acquire(estimated_tokens))
            co_return ec;  // `permit` goes out of scope and frees the slot
        reserved = estimated_tokens;
    }
    lease = limit_lease{std::move(permit), it->second.rate, reserved};
    co_return boost::system::error_code{};
}

}  // namespace ep::engine
