// workspace::list_files: a bounded, depth-first listing that never follows symbolic links.
#include "workspace/workspace_impl.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace ep::engine {

using detail::unique_fd;

namespace {

bool is_hidden_from_listing(const std::string& name, const path_rules& rules)
{
    if (name.rfind(".ep-tmp-", 0) == 0)  // a write in progress
        return true;
    for (const auto& r : rules.reserved)
        if (name.size() == r.size() && std::equal(name.begin(), name.end(), r.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return true;
    return false;
}

struct lister
{
    const workspace_limits& limits;
    file_listing out;

    /// The sorted names in the directory `fd` (consumes a duplicate of it).
    ws_result<std::vector<std::string>> names(int fd, const std::string& shown)
    {
        const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        DIR* d = copy >= 0 ? ::fdopendir(copy) : nullptr;
        if (!d)
        {
            const int err = errno;
            if (copy >= 0)
                ::close(copy);
            return detail::io_failure(err, shown, "listing");
        }
        std::vector<std::string> result;
        while (const dirent* e = ::readdir(d))
        {
            std::string name = e->d_name;
            if (name != "." && name != ".." && !is_hidden_from_listing(name, limits.paths))
                result.push_back(std::move(name));
        }
        ::closedir(d);
        std::sort(result.begin(), result.end());
        return result;
    }

    ws_result<void> walk(int fd, const std::string& prefix, int depth)
    {
        auto list = names(fd, prefix.empty() ? "." : prefix);
        if (!list)
            return list.error();
        for (const auto& name : *list)
        {
            if (out.entries.size() >= limits.max_list_entries)
            {
                out.truncated = true;
                return {};
            }
            struct stat st{};
            if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;  // removed meanwhile
            file_entry e;
            e.path = prefix.empty() ? name : prefix + "/" + name;
            e.kind = S_ISREG(st.st_mode)   ? entry_kind::file
                     : S_ISDIR(st.st_mode) ? entry_kind::directory
                     : S_ISLNK(st.st_mode) ? entry_kind::symlink
                                           : entry_kind::other;
            e.size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
            out.entries.push_back(e);
            if (e.kind != entry_kind::directory)
                continue;
            if (depth >= limits.max_list_depth)
            {
                out.truncated = true;
                continue;
            }
            unique_fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub)
                continue;  // replaced by a link or removed meanwhile: not followed
            if (auto ok = walk(sub.get(), e.path, depth + 1); !ok)
                return ok;
        }
        return {};
    }
};

}  // namespace

ws_result<file_listing> workspace::list_files(std::string_view dir) const
{
    const std::string shown = printable_path(dir);
    path_rules rules = impl_->limits.paths;
    rules.allow_root = true;
    auto checked = check_relative_path(dir, rules);
    if (!checked)
        return checked.error();
    auto entry = impl_->resolve(dir, rules, {.follow_final = true});
    if (!entry)
        return entry.error();
    unique_fd target;
    if (entry->name.empty())
        target = std::move(entry->dir);
    else
    {
        target = unique_fd(::openat(entry->dir.get(), entry->name.c_str(),
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!target)
        {
            const int err = errno;
            return make_workspace_error(err == ENOENT    ? workspace_errc::not_found
                                        : err == ENOTDIR ? workspace_errc::not_a_directory
                                                         : workspace_errc::io_error,
                                        shown, "`" + shown + "`: " + std::generic_category().message(err));
        }
    }
    lister l{impl_->limits, {}};
    const std::string prefix = checked->is_root() ? std::string() : checked->str();
    if (auto ok = l.walk(target.get(), prefix, 1); !ok)
        return ok.error();
    return std::move(l.out);
}

}  // namespace ep::engine
