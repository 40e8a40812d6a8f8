#pragma once
// The bubblewrap command line a sandboxed command runs under (pure), and the flags shared with
// the one-off probe that decides whether bubblewrap works on this machine.

#include <filesystem>
#include <string>
#include <vector>

namespace ep::engine::detail {

struct sandbox_layout
{
    std::filesystem::path workspace;  // bound writable at the same path
    std::filesystem::path scratch;    // the command's HOME/TMPDIR parent, bound writable
    std::filesystem::path cwd;        // inside the workspace
    bool network = false;
};

/// The namespace, capability and life-cycle flags (probe and commands alike).
std::vector<std::string> bwrap_isolation_flags(bool network);

/// Everything before `--` for one command: isolation flags, the read-only root, private /dev,
/// /proc and /tmp, the writable binds (after /tmp, so a workspace under /tmp stays visible) and
/// the working directory.
std::vector<std::string> bwrap_arguments(const sandbox_layout& layout);

}  // namespace ep::engine::detail
