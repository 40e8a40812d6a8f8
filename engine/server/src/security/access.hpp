#pragma once
// Who may call ep-serve and how often: bearer tokens compared in constant time (only their
// SHA-256 digests are kept), and a token bucket per caller. Tokens never appear in logs,
// responses or metrics: a caller is named "token:N" (its position in the list).

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::server {

class token_auth
{
public:
    explicit token_auth(const std::vector<std::string>& tokens);

    bool enabled() const noexcept { return !digests_.empty(); }
    /// The caller's name for a valid `Authorization` header value ("Bearer TOKEN"), else
    /// nullopt. Every configured token is compared, in constant time, whatever matches.
    std::optional<std::string> authenticate(std::string_view authorization_header) const;

private:
    std::vector<std::array<unsigned char, 32>> digests_;
};

/// Reads tokens: EP_SERVE_TOKENS-style text (comma- or newline-separated, blanks and `#`
/// comment lines ignored).
std::vector<std::string> parse_token_list(std::string_view text);

/// Requests per second per caller, with a burst of `burst` (token bucket). Strand-confined.
class rate_limiter
{
public:
    using clock = std::chrono::steady_clock;
    rate_limiter(double per_second, double burst);

    bool enabled() const noexcept { return rate_ > 0; }
    /// Takes one request from `caller`'s bucket; nullopt when allowed, else how long to wait.
    std::optional<std::chrono::milliseconds> admit(const std::string& caller, clock::time_point now = clock::now());

private:
    struct bucket
    {
        double tokens;
        clock::time_point last;
    };
    double rate_;
    double burst_;
    std::map<std::string, bucket> buckets_;
};

/// True for 127.0.0.0/8, ::1, "localhost" (and the v4-mapped ::ffff:127.x).
bool is_loopback_host(std::string_view host);

}  // namespace ep::server
