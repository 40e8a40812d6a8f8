#pragma once
// workspace: the one seam through which the engine reads and writes files of a run
// (STYLE.md §18). Every path is checked by the pure rules of path_rules.hpp first, then
// resolved beneath the workspace's root directory descriptor one component at a time:
//
// - symbolic links are followed only while they stay inside the workspace; a link that is
//   absolute or climbs above the root is refused (symlink_escape), so are loops;
// - writes are atomic: the data goes to a temporary file beside the target, then renameat()
//   replaces the target. A symbolic link in the last component is replaced, never written
//   through; a hard link to a file outside keeps its old content. Missing parent directories
//   are created (0755). An existing file keeps its permission bits; new files get 0666 & ~umask;
//   nothing is fsync'ed (git commits are the durable record);
// - only regular files are read or replaced: devices, FIFOs, sockets and directories are
//   refused (not_regular_file) without being opened for I/O;
// - sizes are capped per file (max_file_bytes) and, through a write_quota, per phase
//   (max_phase_bytes, max_phase_files); reads and listings are bounded.
//
// What it does not defend against: processes that change the tree concurrently in ways that
// make an operation fail (each step is still confined), bind mounts inside the workspace, and
// reading a file that was hard-linked into the workspace from outside.
//
// @par Thread safety
// Distinct objects: safe. Shared object: const members are safe to call concurrently; writes
// are not synchronised with each other (the engine writes from one strand).

#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/path_rules.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

struct workspace_limits
{
    std::uint64_t max_file_bytes = 1u << 20;   // one file written: 1 MiB
    std::uint64_t max_phase_bytes = 8u << 20;  // all files one phase writes: 8 MiB
    std::size_t max_phase_files = 256;         // files one phase writes
    std::uint64_t max_read_bytes = 256u << 10; // what read_file returns by default: 256 KiB
    std::size_t max_list_entries = 2000;       // entries list_files returns
    int max_list_depth = 24;                   // directory levels list_files descends
    path_rules paths;                          // the pure rules (reserved names, lengths)
};

/// Counts what one phase writes against the phase caps. One per phase instance; the files of
/// `files: true` and every `write_file` tool call of the phase share it.
class write_quota
{
public:
    explicit write_quota(const workspace_limits& limits) noexcept
        : max_bytes_(limits.max_phase_bytes), max_files_(limits.max_phase_files)
    {
    }

    /// Refuses (quota_exceeded, nothing counted) when `files` more files of `bytes` in all
    /// would exceed a cap; otherwise counts them.
    ws_result<void> charge(const std::string& path, std::uint64_t bytes, std::size_t files = 1);
    /// Would `charge` succeed? Counts nothing.
    ws_result<void> check(const std::string& path, std::uint64_t bytes, std::size_t files = 1) const;

    std::uint64_t bytes_used() const noexcept { return bytes_; }
    std::size_t files_used() const noexcept { return files_; }

private:
    std::uint64_t max_bytes_;
    std::size_t max_files_;
    std::uint64_t bytes_ = 0;
    std::size_t files_ = 0;
};

enum class entry_kind { file, directory, symlink, other };
const char* to_string(entry_kind k) noexcept;

struct file_entry
{
    std::string path;  // relative to the workspace root, `/`-separated
    entry_kind kind = entry_kind::file;
    std::uint64_t size = 0;  // regular files only
};

struct file_listing
{
    std::vector<file_entry> entries;  // sorted by path; directories before their contents
    bool truncated = false;           // max_list_entries or max_list_depth was reached
};

struct file_content
{
    std::string data;        // at most the requested number of bytes
    std::uint64_t size = 0;  // the file's full size
    bool truncated = false;  // data is a prefix of the file
};

struct written_file
{
    std::string path;    // normalised relative path
    std::uint64_t bytes = 0;
    std::string sha256;  // lowercase hex of the content
};

/// One file to write: a relative path as given (checked on write) and its content.
struct file_write
{
    std::string path;
    std::string content;
};

class workspace
{
public:
    /// Opens (and with `create`, first creates) the directory `root`. The root itself may be
    /// reached through symbolic links; it is canonicalised and held open, so later renames of
    /// its parents do not move the workspace. Errors: not_found, not_a_directory, io_error.
    static ws_result<workspace> open(const std::filesystem::path& root, workspace_limits limits = {},
                                     bool create = true);

    workspace(workspace&&) noexcept;
    workspace& operator=(workspace&&) noexcept;
    ~workspace();

    /// The canonical absolute path of the root.
    const std::filesystem::path& root() const noexcept;
    const workspace_limits& limits() const noexcept;

    /// The pure rules only (no I/O): the normalised path or why it is refused.
    ws_result<relative_path> check_path(std::string_view rel) const;

    /// Reads a regular file, at most `max_bytes` (default limits().max_read_bytes).
    ws_result<file_content> read_file(std::string_view rel, std::optional<std::uint64_t> max_bytes = {}) const;

    /// Writes one file atomically (see the header comment). Refuses file_too_large over
    /// max_file_bytes and quota_exceeded when `quota` (if given) would be exceeded; nothing is
    /// written then.
    ws_result<written_file> write_file(std::string_view rel, std::string_view data, write_quota* quota = nullptr);

    /// Writes every file or none: all paths and sizes are checked and every file is staged
    /// beside its target before the first one replaces anything; on any refusal the staged
    /// files and any directories created for them are removed and the error names the path
    /// and why. A path given twice: the last content wins. (Only a failing rename(2) after
    /// staging — which needs the disk to change under us — can leave the set half-applied; the
    /// error says so.)
    ws_result<std::vector<written_file>> write_files(const std::vector<file_write>& files,
                                                     write_quota* quota = nullptr);

    /// Lists the tree under `dir` (default the root): sorted, symbolic links reported but not
    /// followed, reserved names (`.git`) skipped, bounded by max_list_entries/max_list_depth.
    ws_result<file_listing> list_files(std::string_view dir = ".") const;

    /// The absolute path of an existing directory inside the workspace (for a command's cwd),
    /// after following links that stay inside. "" and "." are the root.
    ws_result<std::filesystem::path> directory_path(std::string_view rel) const;

    struct impl;

private:
    explicit workspace(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::engine
