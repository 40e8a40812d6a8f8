#pragma once
// Keeping credentials out of logs, events, errors and the store.

#include <string>
#include <string_view>
#include <vector>

namespace ep {

/// "sk-…wxyz": at most the last 4 characters of a secret (llama.cpp's rule); "" for short ones.
std::string mask_secret(std::string_view secret);

/// A registry of secrets in use; `scrub` replaces every occurrence of any of them.
class redactor
{
public:
    void add_secret(std::string secret);
    /// Returns `text` with each known secret (of 4+ chars) replaced by "[REDACTED]".
    std::string scrub(std::string_view text) const;
    bool empty() const noexcept { return secrets_.empty(); }

private:
    std::vector<std::string> secrets_;
};

}  // namespace ep
