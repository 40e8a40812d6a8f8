#include <ep/engine/routing/circuit_breaker.hpp>

#include <algorithm>

namespace ep::engine {

const char* to_string(circuit_state s) noexcept
{
    switch (s)
    {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half-open";
    }
    return "closed";
}

circuit_breaker::circuit_breaker(circuit_breaker_config cfg, now_fn now) : cfg_(cfg), now_(std::move(now)) {}

bool circuit_breaker::allow()
{
    std::lock_guard lock(mutex_);
    switch (state_)
    {
    case circuit_state::closed: return true;
    case circuit_state::open:
        if (now_() - opened_at_ < cfg_.cooldown)
            return false;
        state_ = circuit_state::half_open;
        probe_in_flight_ = true;
        return true;
    case circuit_state::half_open:
        if (probe_in_flight_)
            return false;
        probe_in_flight_ = true;
        return true;
    }
    return false;
}

void circuit_breaker::record_success()
{
    std::lock_guard lock(mutex_);
    const auto now = now_();
    consecutive_failures_ = 0;
    probe_in_flight_ = false;
    if (state_ != circuit_state::closed)
    {
        // A fresh start: the failures that opened the circuit must not reopen it at once.
        state_ = circuit_state::closed;
        outcomes_.clear();
    }
    outcomes_.emplace_back(now, false);
    trim_locked(now);
}

void circuit_breaker::record_failure()
{
    std::lock_guard lock(mutex_);
    const auto now = now_();
    probe_in_flight_ = false;
    if (state_ == circuit_state::half_open)
    {
        open_locked(now);
        return;
    }
    if (state_ == circuit_state::open)
        return;  // a call that started before the circuit opened
    ++consecutive_failures_;
    outcomes_.emplace_back(now, true);
    trim_locked(now);
    const auto failures = std::count_if(outcomes_.begin(), outcomes_.end(), [](auto const& o) { return o.second; });
    const bool rate_exceeded = static_cast<int>(outcomes_.size()) >= cfg_.min_calls_in_window &&
                               double(failures) >= cfg_.failure_rate_to_open * double(outcomes_.size());
    if (consecutive_failures_ >= cfg_.consecutive_failures_to_open || rate_exceeded)
        open_locked(now);
}

void circuit_breaker::release()
{
    std::lock_guard lock(mutex_);
    probe_in_flight_ = false;
}

circuit_state circuit_breaker::state() const
{
    std::lock_guard lock(mutex_);
    return state_;
}

bool circuit_breaker::is_open() const
{
    std::lock_guard lock(mutex_);
    if (state_ == circuit_state::open)
        return now_() - opened_at_ < cfg_.cooldown;
    return state_ == circuit_state::half_open && probe_in_flight_;
}

void circuit_breaker::open_locked(clock::time_point now)
{
    state_ = circuit_state::open;
    opened_at_ = now;
    consecutive_failures_ = 0;
    outcomes_.clear();
}

void circuit_breaker::trim_locked(clock::time_point now)
{
    while (!outcomes_.empty() && now - outcomes_.front().first > cfg_.window)
        outcomes_.pop_front();
}

circuit_registry::circuit_registry(circuit_breaker_config cfg, circuit_breaker::now_fn now)
    : cfg_(cfg), now_(std::move(now))
{
}

std::shared_ptr<circuit_breaker> circuit_registry::get(const std::string& provider, const std::string& model)
{
    std::lock_guard lock(mutex_);
    auto& slot = breakers_[{provider, model}];
    if (!slot)
        slot = std::make_shared<circuit_breaker>(cfg_, now_);
    return slot;
}

std::shared_ptr<circuit_breaker> circuit_registry::find(const std::string& provider, const std::string& model) const
{
    std::lock_guard lock(mutex_);
    auto it = breakers_.find({provider, model});
    return it == breakers_.end() ? nullptr : it->second;
}

}  // namespace ep::engine
