// workspace: opening the root, confined reads, directory lookups, the per-phase quota.
#include "workspace/workspace_impl.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace ep::engine {

using detail::unique_fd;

const char* to_string(entry_kind k) noexcept
{
    switch (k)
    {
    case entry_kind::file: return "file";
    case entry_kind::directory: return "directory";
    case entry_kind::symlink: return "symlink";
    case entry_kind::other: return "other";
    }
    return "other";
}

ws_result<void> write_quota::check(const std::string& path, std::uint64_t bytes, std::size_t files) const
{
    if (files_ + files > max_files_)
        return make_workspace_error(workspace_errc::quota_exceeded, path,
                                    "`" + path + "`: refused: the phase may write at most " +
                                        std::to_string(max_files_) + " files");
    if (bytes_ + bytes > max_bytes_)
        return make_workspace_error(workspace_errc::quota_exceeded, path,
                                    "`" + path + "`: refused: the phase may write at most " +
                                        std::to_string(max_bytes_) + " bytes in all (" +
                                        std::to_string(bytes_) + " written, " + std::to_string(bytes) +
                                        " more requested)");
    return {};
}

ws_result<void> write_quota::charge(const std::string& path, std::uint64_t bytes, std::size_t files)
{
    if (auto ok = check(path, bytes, files); !ok)
        return ok.error();
    bytes_ += bytes;
    files_ += files;
    return {};
}

ws_result<workspace> workspace::open(const std::filesystem::path& root, workspace_limits limits, bool create)
{
    const std::string shown = root.string();
    std::error_code ec;
    if (create)
        std::filesystem::create_directories(root, ec);
    if (ec)
        return make_workspace_error(workspace_errc::io_error, shown,
                                    "cannot create the workspace `" + shown + "`: " + ec.message());
    auto canonical = std::filesystem::canonical(root, ec);
    if (ec)
        return make_workspace_error(ec == std::errc::no_such_file_or_directory ? workspace_errc::not_found
                                                                               : workspace_errc::io_error,
                                    shown, "the workspace `" + shown + "` cannot be opened: " + ec.message());
    unique_fd fd(::open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
    {
        const int err = errno;
        return make_workspace_error(err == ENOTDIR ? workspace_errc::not_a_directory : workspace_errc::io_error,
                                    shown, "the workspace `" + shown + "` cannot be opened: " +
                                               std::generic_category().message(err));
    }
    auto p = std::make_unique<impl>();
    p->root = std::move(canonical);
    p->root_fd = std::move(fd);
    p->limits = std::move(limits);
    return workspace(std::move(p));
}

workspace::workspace(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
workspace::workspace(workspace&&) noexcept = default;
workspace& workspace::operator=(workspace&&) noexcept = default;
workspace::~workspace() = default;

const std::filesystem::path& workspace::root() const noexcept { return impl_->root; }
const workspace_limits& workspace::limits() const noexcept { return impl_->limits; }

ws_result<relative_path> workspace::check_path(std::string_view rel) const
{
    return check_relative_path(rel, impl_->limits.paths);
}

ws_result<detail::resolved_entry> workspace::impl::resolve(std::string_view rel, const path_rules& rules,
                                                           const detail::resolve_options& options) const
{
    auto checked = check_relative_path(rel, rules);
    if (!checked)
        return checked.error();
    return detail::resolve_beneath(root_fd.get(), *checked, printable_path(rel), options);
}

namespace {

ws_result<std::string> read_bounded(int fd, std::uint64_t limit, const std::string& shown)
{
    std::string data;
    char buf[64 * 1024];
    while (data.size() < limit)
    {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, limit - data.size()));
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return detail::io_failure(errno, shown, "reading");
        if (n == 0)
            break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

}  // namespace

ws_result<file_content> workspace::read_file(std::string_view rel, std::optional<std::uint64_t> max_bytes) const
{
    const std::string shown = printable_path(rel);
    auto entry = impl_->resolve(rel, impl_->limits.paths, {.follow_final = true});
    if (!entry)
        return entry.error();
    if (entry->name.empty())
        return make_workspace_error(workspace_errc::not_regular_file, shown, "`" + shown + "` is a directory");
    struct stat before{};
    if (::fstatat(entry->dir.get(), entry->name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0)
    {
        if (errno == ENOENT)
            return make_workspace_error(workspace_errc::not_found, shown, "`" + shown + "` does not exist");
        return detail::io_failure(errno, shown, "examining");
    }
    if (!S_ISREG(before.st_mode))
        return make_workspace_error(workspace_errc::not_regular_file, shown,
                                    "`" + shown + "`: refused: it is " + detail::file_type_text(before.st_mode));
    // O_NONBLOCK and the inode comparison: if the entry was swapped for a FIFO or device since
    // fstatat, the open neither blocks nor is the object read.
    unique_fd fd(::openat(entry->dir.get(), entry->name.c_str(),
                          O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat now{};
    if (!fd || ::fstat(fd.get(), &now) != 0)
        return detail::io_failure(errno, shown, "opening");
    if (now.st_ino != before.st_ino || now.st_dev != before.st_dev || !S_ISREG(now.st_mode))
        return make_workspace_error(workspace_errc::not_regular_file, shown,
                                    "`" + shown + "`: refused: it changed while it was opened");
    const std::uint64_t limit = max_bytes.value_or(impl_->limits.max_read_bytes);
    auto data = read_bounded(fd.get(), limit, shown);
    if (!data)
        return data.error();
    file_content out;
    out.size = static_cast<std::uint64_t>(now.st_size);
    out.truncated = out.size > data->size();
    out.data = std::move(*data);
    return out;
}

ws_result<std::filesystem::path> workspace::directory_path(std::string_view rel) const
{
    const std::string shown = printable_path(rel);
    path_rules rules = impl_->limits.paths;
    rules.allow_root = true;
    auto entry = impl_->resolve(rel, rules, {.follow_final = true});
    if (!entry)
        return entry.error();
    std::filesystem::path out = impl_->root;
    for (const auto& c : entry->dir_path)
        out /= c;
    if (entry->name.empty())
        return out;
    struct stat st{};
    if (::fstatat(entry->dir.get(), entry->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    {
        const int err = errno;
        return make_workspace_error(err == ENOENT ? workspace_errc::not_found : workspace_errc::io_error, shown,
                                    "`" + shown + "`: " + std::generic_category().message(err));
    }
    if (!S_ISDIR(st.st_mode))
        return make_workspace_error(workspace_errc::not_a_directory, shown,
                                    "`" + shown + "` is not a directory");
    return out / entry->name;
}

}  // namespace ep::engine
