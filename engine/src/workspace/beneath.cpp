// The confined walk (see beneath.hpp for why a walk rather than openat2).
#include "workspace/beneath.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

namespace ep::engine::detail {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept
{
    if (this != &o)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

unique_fd::~unique_fd()
{
    if (fd_ >= 0)
        ::close(fd_);
}

const char* file_type_text(unsigned mode) noexcept
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device file";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

workspace_error io_failure(int err, const std::string& shown, const std::string& what)
{
    return make_workspace_error(workspace_errc::io_error, shown,
                                "`" + shown + "`: " + what + " failed: " + std::strerror(err));
}

namespace {

constexpr int max_symlinks = 40;  // the kernel's own limit (MAXSYMLINKS)

struct walk
{
    struct level
    {
        unique_fd fd;
        std::string name;
    };

    int root_fd;
    const std::string& shown;
    std::vector<level> stack;  // the directories entered below the root

    int current() const { return stack.empty() ? root_fd : stack.back().fd.get(); }

    std::string here(const std::string& name) const
    {
        std::string p;
        for (const auto& l : stack)
            p += l.name + "/";
        return p + name;
    }

    std::vector<std::string> dir_path() const
    {
        std::vector<std::string> out;
        for (const auto& l : stack)
            out.push_back(l.name);
        return out;
    }

    workspace_error refuse(workspace_errc code, const std::string& why) const
    {
        return make_workspace_error(code, shown, "`" + shown + "`: refused: " + why);
    }

    ws_result<resolved_entry> entry(std::string name)
    {
        resolved_entry out;
        out.dir_path = dir_path();
        out.name = std::move(name);
        if (stack.empty())
        {
            out.dir = unique_fd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
            if (!out.dir)
                return io_failure(errno, shown, "duplicating the workspace descriptor");
        }
        else
        {
            out.dir = std::move(stack.back().fd);  // the walk ends here: the descriptor moves out
        }
        return out;
    }

    ws_result<void> enter(const std::string& c)
    {
        unique_fd fd(::openat(current(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd)
        {
            const int err = errno;
            if (err == ELOOP || err == ENOTDIR)  // replaced by a link or a file since fstatat
                return refuse(workspace_errc::symlink_escape, "`" + here(c) + "` changed while it was checked");
            return io_failure(err, shown, "opening directory `" + here(c) + "`");
        }
        stack.push_back(level{std::move(fd), c});
        return {};
    }

    ws_result<void> follow(const std::string& c, std::deque<std::string>& todo)
    {
        std::string target(4096, '\0');
        const ssize_t n = ::readlinkat(current(), c.c_str(), target.data(), target.size());
        if (n < 0)
            return io_failure(errno, shown, "reading the link `" + here(c) + "`");
        target.resize(static_cast<std::size_t>(n));
        if (target.empty() || target.front() == '/')
            return refuse(workspace_errc::symlink_escape,
                          "`" + here(c) + "` is a symbolic link to an absolute path, which may lead outside the "
                          "workspace");
        std::vector<std::string> parts;
        std::size_t start = 0;
        while (start <= target.size())
        {
            const std::size_t end = std::min(target.find('/', start), target.size());
            parts.push_back(target.substr(start, end - start));
            start = end + 1;
        }
        todo.insert(todo.begin(), parts.begin(), parts.end());
        return {};
    }
};

}  // namespace

ws_result<resolved_entry> resolve_beneath(int root_fd, const relative_path& path, const std::string& shown,
                                          const resolve_options& options)
{
    walk w{root_fd, shown, {}};
    std::deque<std::string> todo(path.components.begin(), path.components.end());
    int links = 0;
    std::string link_seen;  // the last link followed, for an escape message
    while (!todo.empty())
    {
        std::string c = std::move(todo.front());
        todo.pop_front();
        if (c.empty() || c == ".")
            continue;
        if (c == "..")  // only ever from a link's target: path_rules refuses `..` in paths
        {
            if (w.stack.empty())
                return w.refuse(workspace_errc::symlink_escape,
                                "the symbolic link `" + link_seen + "` leads outside the workspace");
            w.stack.pop_back();
            continue;
        }
        const bool last = todo.empty();
        struct stat st{};
        if (::fstatat(w.current(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        {
            const int err = errno;
            if (err != ENOENT)
                return io_failure(err, shown, "examining `" + w.here(c) + "`");
            if (last)
                return w.entry(std::move(c));
            if (!options.create_dirs)
                return make_workspace_error(workspace_errc::not_found, shown,
                                            "`" + shown + "`: `" + w.here(c) + "` does not exist");
            if (::mkdirat(w.current(), c.c_str(), 0755) != 0 && errno != EEXIST)
                return io_failure(errno, shown, "creating directory `" + w.here(c) + "`");
            if (options.created)
                options.created->push_back(w.here(c));
            if (auto r = w.enter(c); !r)
                return r.error();
            continue;
        }
        if (S_ISLNK(st.st_mode))
        {
            if (last && !options.follow_final)
                return w.entry(std::move(c));
            if (++links > max_symlinks)
                return w.refuse(workspace_errc::symlink_loop, "more than 40 symbolic links (a loop?)");
            link_seen = w.here(c);
            if (auto r = w.follow(c, todo); !r)
                return r.error();
            continue;
        }
        if (last)
            return w.entry(std::move(c));
        if (!S_ISDIR(st.st_mode))
            return make_workspace_error(workspace_errc::not_a_directory, shown,
                                        "`" + shown + "`: `" + w.here(c) + "` is not a directory");
        if (auto r = w.enter(c); !r)
            return r.error();
    }
    // Every component was a directory (or a link to one): the path names a directory itself.
    return w.entry(std::string{});
}

}  // namespace ep::engine::detail
