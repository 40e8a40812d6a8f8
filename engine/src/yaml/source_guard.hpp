#pragma once
// Checks raw bytes before yaml-cpp sees them: yaml-cpp recurses per nesting level and accepts
// odd encodings, so binary files, bad UTF-8 and pathological nesting are rejected here first.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ep::engine::detail {

struct guard_failure
{
    std::size_t offset = 0;  // byte offset of the problem
    std::string message;
};

/// NUL bytes and invalid UTF-8 (overlongs, surrogates, truncated sequences).
std::optional<guard_failure> check_encoding(std::string_view text);

/// Estimates the nesting depth of block indentation, `- ` sequence entries and flow brackets
/// (outside quotes, comments and block scalars); fails at the first point deeper than max_depth.
std::optional<guard_failure> check_nesting(std::string_view text, int max_depth);

}  // namespace ep::engine::detail
