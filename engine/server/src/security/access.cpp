#include "security/access.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

namespace ep::server {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text)
{
    std::array<unsigned char, 32> out{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

token_auth::token_auth(const std::vector<std::string>& tokens)
{
    for (const auto& t : tokens)
        digests_.push_back(sha256(t));
}

std::optional<std::string> token_auth::authenticate(std::string_view header) const
{
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() <= scheme.size())
        return std::nullopt;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
            return std::nullopt;
    // Digests of equal length make the comparison independent of the token's length, and every
    // configured token is compared, so the time taken says nothing about which one is close.
    const auto presented = sha256(trim(header.substr(scheme.size())));
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < digests_.size(); ++i)
        if (CRYPTO_memcmp(presented.data(), digests_[i].data(), presented.size()) == 0)
            found = i;
    if (!found)
        return std::nullopt;
    return "token:" + std::to_string(*found + 1);
}

std::vector<std::string> parse_token_list(std::string_view text)
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size())
    {
        auto end = text.find_first_of(",\n", pos);
        if (end == std::string_view::npos)
            end = text.size();
        auto item = trim(text.substr(pos, end - pos));
        if (!item.empty() && item.front() != '#')
            out.emplace_back(item);
        pos = end + 1;
    }
    return out;
}

rate_limiter::rate_limiter(double per_second, double burst) : rate_(per_second), burst_(std::max(burst, 1.0)) {}

std::optional<std::chrono::milliseconds> rate_limiter::admit(const std::string& caller, clock::time_point now)
{
    if (!enabled())
        return std::nullopt;
    auto [it, fresh] = buckets_.try_emplace(caller, bucket{burst_, now});
    auto& b = it->second;
    if (!fresh)
    {
        const double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
        b.last = now;
    }
    if (b.tokens >= 1.0)
    {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    const double wait_s = (1.0 - b.tokens) / rate_;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000)));
}

bool is_loopback_host(std::string_view host)
{
    if (host == "localhost")
        return true;
    std::string h(host);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']')
        h = h.substr(1, h.size() - 2);
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(h, ec);
    if (ec)
        return false;
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()).is_loopback();
    return addr.is_loopback();
}

}  // namespace ep::server
