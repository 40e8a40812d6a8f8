#pragma once
// "did you mean …?" helpers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine::detail {

/// Edit distance (insert, delete, substitute, swap two adjacent characters: each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The closest candidate if it is close enough to be a plausible typo (distance <= 2, and
/// at most a third of the longer word), else nullopt. Ties keep the earlier candidate.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace ep::engine::detail
