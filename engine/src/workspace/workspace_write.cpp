// workspace writes: every file staged beside its target, then renamed into place (all or none).
#include "workspace/workspace_impl.hpp"

#include <ep/persistence/run_id.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <random>

namespace ep::engine {

using detail::unique_fd;

namespace {

std::string temp_name()
{
    // Unpredictable so that nothing else in the workspace can pre-create it (O_EXCL refuses
    // an existing name anyway; the randomness only avoids collisions between writers).
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = ".ep-tmp-";
    auto v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4)
        out += hex[v & 0xf];
    return out;
}

struct staged_file
{
    unique_fd dir;
    std::string name;
    std::string temp;
    written_file info;
};

/// Files written to temporary names and directories created for them. Until commit(), the
/// destructor removes all of it, so a refused set leaves the tree as it was.
class staging
{
public:
    staging(const workspace::impl& ws) : ws_(ws) {}
    staging(const staging&) = delete;
    staging& operator=(const staging&) = delete;
    ~staging() { discard(); }

    ws_result<void> stage(const relative_path& path, std::string_view data);
    ws_result<std::vector<written_file>> commit();

private:
    void discard();
    ws_result<void> write_temp(staged_file& f, std::string_view data, mode_t mode, const std::string& shown);

    const workspace::impl& ws_;
    std::vector<staged_file> files_;
    std::vector<std::string> created_dirs_;
};

ws_result<void> staging::stage(const relative_path& path, std::string_view data)
{
    const std::string shown = path.str();
    auto entry = detail::resolve_beneath(ws_.root_fd.get(), path, shown,
                                         {.follow_final = false, .create_dirs = true, .created = &created_dirs_});
    if (!entry)
        return entry.error();
    if (entry->name.empty())
        return make_workspace_error(workspace_errc::not_regular_file, shown, "`" + shown + "` names a directory");
    mode_t mode = 0666;  // the umask applies
    struct stat st{};
    if (::fstatat(entry->dir.get(), entry->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
        if (S_ISREG(st.st_mode))
            mode = st.st_mode & 07777;
        else if (!S_ISLNK(st.st_mode))  // a link is replaced by the file, never written through
            return make_workspace_error(workspace_errc::not_regular_file, shown,
                                        "`" + shown + "`: refused: it exists and is " + detail::file_type_text(st.st_mode));
    }
    else if (errno != ENOENT)
        return detail::io_failure(errno, shown, "examining");
    staged_file f;
    f.dir = std::move(entry->dir);
    f.name = std::move(entry->name);
    f.info.path = shown;
    f.info.bytes = data.size();
    f.info.sha256 = persistence::definition_hash(data);  // SHA-256, lowercase hex
    if (auto ok = write_temp(f, data, mode, shown); !ok)
        return ok;
    files_.push_back(std::move(f));
    return {};
}

ws_result<void> staging::write_temp(staged_file& f, std::string_view data, mode_t mode, const std::string& shown)
{
    unique_fd fd;
    for (int tries = 0; tries < 8 && !fd; ++tries)
    {
        f.temp = temp_name();
        fd = unique_fd(::openat(f.dir.get(), f.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                mode));
        if (!fd && errno != EEXIST)
            break;
    }
    if (!fd)
    {
        const int err = errno;
        f.temp.clear();
        return detail::io_failure(err, shown, "creating a temporary file");
    }
    if (mode != 0666 && ::fchmod(fd.get(), mode) != 0)  // keep an existing file's bits exactly
        return detail::io_failure(errno, shown, "setting permissions");
    std::size_t done = 0;
    while (done < data.size())
    {
        const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return detail::io_failure(errno, shown, "writing");
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd.release()) != 0)
        return detail::io_failure(errno, shown, "writing");
    return {};
}

ws_result<std::vector<written_file>> staging::commit()
{
    std::vector<written_file> out;
    for (auto& f : files_)
    {
        if (::renameat(f.dir.get(), f.temp.c_str(), f.dir.get(), f.name.c_str()) != 0)
        {
            auto err = detail::io_failure(errno, f.info.path, "replacing the file");
            if (!out.empty())
                err.message += " (" + std::to_string(out.size()) + " file(s) of the set were already written)";
            return err;
        }
        f.temp.clear();
        out.push_back(f.info);
    }
    files_.clear();
    created_dirs_.clear();
    return out;
}

void staging::discard()
{
    for (auto& f : files_)
        if (!f.temp.empty())
            ::unlinkat(f.dir.get(), f.temp.c_str(), 0);
    files_.clear();
    // Deepest first; a directory that something else filled meanwhile stays (rmdir fails).
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it)
        ::unlinkat(ws_.root_fd.get(), it->c_str(), AT_REMOVEDIR);
    created_dirs_.clear();
}

workspace_error too_large(const std::string& shown, std::size_t size, std::uint64_t cap)
{
    return make_workspace_error(workspace_errc::file_too_large, shown,
                                "`" + shown + "`: refused: " + std::to_string(size) +
                                    " bytes is over the per-file limit of " + std::to_string(cap) + " bytes");
}

}  // namespace

ws_result<written_file> workspace::write_file(std::string_view rel, std::string_view data, write_quota* quota)
{
    auto written = write_files({file_write{std::string(rel), std::string(data)}}, quota);
    if (!written)
        return written.error();
    return std::move(written->front());
}

ws_result<std::vector<written_file>> workspace::write_files(const std::vector<file_write>& files,
                                                            write_quota* quota)
{
    // Every pure check first, so a bad path at the end refuses the set before any I/O.
    std::vector<std::pair<relative_path, const std::string*>> unique;
    std::map<std::string, std::size_t> index;
    std::uint64_t total = 0;
    for (const auto& f : files)
    {
        auto path = check_relative_path(f.path, impl_->limits.paths);
        if (!path)
            return path.error();
        if (f.content.size() > impl_->limits.max_file_bytes)
            return too_large(path->str(), f.content.size(), impl_->limits.max_file_bytes);
        const auto [it, inserted] = index.emplace(path->str(), unique.size());
        if (inserted)
            unique.emplace_back(std::move(*path), &f.content);
        else
            unique[it->second].second = &f.content;  // a path given twice: the last one wins
    }
    for (std::size_t i = 0; i < unique.size(); ++i)
    {
        total += unique[i].second->size();
        if (quota)  // name the first file that crosses a cap
            if (auto ok = quota->check(unique[i].first.str(), total, i + 1); !ok)
                return ok.error();
    }

    staging stage(*impl_);
    for (const auto& [path, content] : unique)
        if (auto ok = stage.stage(path, *content); !ok)
            return ok.error();
    auto written = stage.commit();
    if (written && quota)
        (void)quota->charge(written->empty() ? std::string() : written->front().path, total, written->size());
    return written;
}

}  // namespace ep::engine
