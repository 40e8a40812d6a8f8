#pragma once
// Per-provider client-side limits, as configured (capabilities.yaml `limits:`); enforced by
// provider_limits (rate_limiter.hpp). Kept apart so the policy needs no Asio.

#include <cstddef>

namespace ep::engine {

struct provider_limit_config
{
    std::size_t max_concurrent = 0;  // calls in flight at once; 0 = unlimited
    double requests_per_minute = 0;  // 0 = unlimited
    double tokens_per_minute = 0;    // 0 = unlimited (prompt estimate, corrected by real usage)

    bool any() const noexcept { return max_concurrent > 0 || requests_per_minute > 0 || tokens_per_minute > 0; }
};

}  // namespace ep::engine
