#pragma once
// Resolving a checked relative path beneath a directory file descriptor, one component at a
// time (openat + O_NOFOLLOW), following symbolic links only while they stay beneath the root.
//
// Why a walk and not openat2(RESOLVE_BENEATH): the walk gives the same semantics on every
// kernel and under container seccomp profiles that refuse openat2, it lets each refusal say
// which link escaped, and it yields the final directory + name pair that atomic writes need
// (a temporary file beside the target, then renameat). Each step is relative to the file
// descriptor of the previous directory, so swapping a component for a symbolic link after it
// was checked cannot redirect the walk.

#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/path_rules.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ep::engine::detail {

/// An owned file descriptor (closed on destruction).
class unique_fd
{
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd();

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_ = -1;
};

/// Where a path ends up: the directory that holds its last component (opened), the last
/// component's name, and the physical components from the root to that directory.
struct resolved_entry
{
    unique_fd dir;
    std::string name;                   // empty when the path is the root itself
    std::vector<std::string> dir_path;  // physical components of `dir` below the root
};

struct resolve_options
{
    bool follow_final = true;   // resolve a symbolic link in the last component (reads); writes
                                // replace the link itself and pass false
    bool create_dirs = false;   // create missing intermediate directories (mode 0755)
    std::vector<std::string>* created = nullptr;  // receives the directories created (relative)
};

/// Walks `path` beneath `root_fd`. Refuses with symlink_escape a link that is absolute or whose
/// `..` climbs above the root, symlink_loop after 40 links, not_a_directory when an
/// intermediate component is not a directory, not_found when one is missing (unless
/// create_dirs). The last component need not exist. `shown` is the path as the user wrote it,
/// for messages.
ws_result<resolved_entry> resolve_beneath(int root_fd, const relative_path& path, const std::string& shown,
                                          const resolve_options& options = {});

/// "a directory", "a FIFO", "a device file", "a socket", "a symbolic link" — for refusals.
const char* file_type_text(unsigned mode) noexcept;

/// A workspace_error for errno `err` while doing `what` on `shown`.
workspace_error io_failure(int err, const std::string& shown, const std::string& what);

}  // namespace ep::engine::detail
