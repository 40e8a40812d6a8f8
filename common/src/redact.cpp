#include <ep/common/redact.hpp>

#include <algorithm>

namespace ep {

std::string mask_secret(std::string_view secret)
{
    if (secret.size() < 12)
        return "…";  // too short to show any of it safely
    return "…" + std::string(secret.substr(secret.size() - 4));
}

void redactor::add_secret(std::string secret)
{
    if (secret.size() < 4 || std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end())
        return;
    secrets_.push_back(std::move(secret));
    // Longest first, so a secret that contains another is replaced whole.
    std::sort(secrets_.begin(), secrets_.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
}

std::string redactor::scrub(std::string_view text) const
{
    std::string out(text);
    for (auto const& s : secrets_)
    {
        for (auto pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos))
        {
            out.replace(pos, s.size(), "[REDACTED]");
            pos += 10;
        }
    }
    return out;
}

}  // namespace ep
