#pragma once
// File-permission tests that also mean something as root (CI runs as root, and root ignores
// permission bits).

#include <filesystem>
#include <functional>

namespace ep::testing {

/// Runs `body` where file permissions are enforced. For an ordinary user that is right here.
/// As root, `body` runs in a forked child that first gives `tree` (recursively) to the user and
/// group `nobody` (65534) and then drops to them, so a chmod inside `body` binds the way it
/// binds for a user. The child's gtest failures print on the shared stderr and fail the caller;
/// where root cannot become nobody (a container without CAP_SETUID) the test is skipped.
/// Call it with no other threads running (it forks).
void run_with_permissions_enforced(const std::filesystem::path& tree, const std::function<void()>& body);

}  // namespace ep::testing
