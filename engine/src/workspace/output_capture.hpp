#pragma once
// Sans-I/O pieces of a command's output handling: a capped tail buffer and a redacting
// buffer that never lets a configured secret through, even split across reads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine::detail {

/// Keeps the last `cap` bytes of everything appended (and counts the rest).
class tail_buffer
{
public:
    explicit tail_buffer(std::size_t cap) : cap_(cap) {}

    void append(std::string_view text);
    /// The kept tail, cut at a UTF-8 character boundary, prefixed by
    /// "[… N bytes dropped …]\n" when anything was dropped.
    std::string text() const;
    std::uint64_t total() const noexcept { return total_; }

private:
    std::size_t cap_;
    std::string buf_;  // may hold up to 2 × cap_ before it is trimmed (amortised)
    std::uint64_t total_ = 0;
};

/// Output waiting to be delivered, with every complete occurrence of a secret (4+ bytes)
/// replaced by "[REDACTED]". take() keeps back the longest tail that could still be the start
/// of a secret (so no prefix of a secret is delivered before it can be judged) or of a UTF-8
/// character, and delivers valid UTF-8 only (invalid bytes become U+FFFD).
class redacting_buffer
{
public:
    explicit redacting_buffer(std::vector<std::string> secrets);

    void append(std::string_view raw);
    std::size_t size() const noexcept { return pending_.size(); }
    /// What can be delivered now (`final`: everything; the stream has ended).
    std::string take(bool final);

private:
    std::vector<std::string> secrets_;
    std::string pending_;
};

}  // namespace ep::engine::detail
