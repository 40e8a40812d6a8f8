// git_repository: the git command lines behind a run's branch and phase commits (git.hpp).
#include <ep/engine/workspace/git.hpp>

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace ep::engine {
namespace {

std::string one_line(std::string s)
{
    for (auto& c : s)
        if (c == '\n' || c == '\r')
            c = ' ';
    return s;
}

std::string trim_newline(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

/// The last lines of a failed git command's stderr, for the error message.
std::string stderr_excerpt(const command_result& r)
{
    std::string text = trim_newline(r.stderr_text.empty() ? r.stdout_text : r.stderr_text);
    if (text.size() > 600)
        text = "…" + text.substr(text.size() - 600);
    return text;
}

/// An argument list built outside the coroutines: GCC 12 rejects braced lists of string
/// literals inside a co_await expression ("array used as initializer").
template <class... A>
std::vector<std::string> args(A&&... a)
{
    return {std::string(std::forward<A>(a))...};
}

std::vector<std::string> pathspec(const std::vector<std::string>& excluded)
{
    std::vector<std::string> out = {"--", "."};
    for (const auto& e : excluded)
        out.push_back(":(exclude)" + e);
    return out;
}

/// `Key: value` lines of a commit body.
std::optional<std::string> trailer(const std::string& body, const std::string& key)
{
    std::istringstream in(body);
    std::optional<std::string> found;
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ": ", 0) == 0)
            found = line.substr(key.size() + 2);
    return found;
}

/// The files under `root` (relative paths, sorted), top-level `excluded` names left out: what
/// `git status` would list as untracked right after `git init`.
std::vector<std::string> files_in_tree(const std::filesystem::path& root, const std::vector<std::string>& excluded)
{
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec))
    {
        const fs::path rel = it->path().lexically_relative(root);
        const std::string top = rel.begin() == rel.end() ? std::string() : rel.begin()->string();
        if (it.depth() == 0 && std::find(excluded.begin(), excluded.end(), top) != excluded.end())
        {
            it.disable_recursion_pending();
            continue;
        }
        if (!fs::is_directory(it->symlink_status(ec)))  // a link to a directory is a file to git
            out.push_back(rel.generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<int> to_int(const std::optional<std::string>& s)
{
    if (!s)
        return std::nullopt;
    try
    {
        return std::stoi(*s);
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

}  // namespace

git_repository::git_repository(command_runner& runner, const workspace& ws, git_options options)
    : runner_(runner), ws_(ws), options_(std::move(options))
{
}

std::string git_repository::branch_name(const std::string& run_id) { return "ep/" + run_id; }

std::string git_repository::commit_message(const phase_commit_info& info)
{
    std::string subject = "ep: " + one_line(info.phase);
    std::string where;
    if (info.iteration > 1)
        where = "iteration " + std::to_string(info.iteration);
    if (info.item)
        where += (where.empty() ? "" : ", ") + std::string("item ") + std::to_string(*info.item);
    if (!where.empty())
        subject += " (" + where + ")";
    std::string msg = subject + "\n\n";
    msg += "EP-Run: " + one_line(info.run_id) + "\n";
    msg += "EP-Phase: " + one_line(info.phase) + "\n";
    msg += "EP-Iteration: " + std::to_string(info.iteration) + "\n";
    if (info.item)
        msg += "EP-Item: " + std::to_string(*info.item) + "\n";
    msg += "EP-Provider: " + one_line(info.provider) + "\n";
    msg += "EP-Model: " + one_line(info.model) + "\n";
    return msg;
}

asio::awaitable<ws_result<command_result>> git_repository::git(std::vector<std::string> args, bool allow_failure)
{
    command_spec spec;
    spec.argv = {options_.git.empty() ? std::string("git") : options_.git.string(),
                 "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
                 "-c", "core.fsmonitor=false", "-c", "core.autocrlf=false", "-c", "core.pager=cat",
                 "-c", "color.ui=false", "-c", "init.defaultBranch=main", "-c", "gc.auto=0",
                 "-c", "safe.directory=" + ws_.root().string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"GIT_CONFIG_NOSYSTEM", "1"},
                {"GIT_CONFIG_GLOBAL", "/dev/null"},
                {"GIT_TERMINAL_PROMPT", "0"},
                {"GIT_CEILING_DIRECTORIES", ws_.root().parent_path().string()},
                {"LC_ALL", "C"},
                {"GIT_AUTHOR_NAME", options_.author_name},
                {"GIT_AUTHOR_EMAIL", options_.author_email},
                {"GIT_COMMITTER_NAME", options_.author_name},
                {"GIT_COMMITTER_EMAIL", options_.author_email}};
    spec.timeout = options_.timeout;
    spec.output_cap = 8u << 20;
    auto r = co_await runner_.run(spec, ws_);
    if (!r)
    {
        if (r.error().code == command_errc::program_not_found)
            co_return make_workspace_error(git_errc::git_missing, {},
                                           "git is needed for `git: true` but " + r.error().str() +
                                               " (Debian package `git`)");
        co_return r.error();
    }
    if (!allow_failure && !r->succeeded())
    {
        std::string shown = "git";
        for (const auto& a : args)
            shown += " " + a;
        co_return make_workspace_error(git_errc::git_failed, {},
                                       "`" + shown + "` failed (" + r->describe() + "): " + stderr_excerpt(*r));
    }
    co_return r;
}

asio::awaitable<ws_result<bool>> git_repository::is_repository()
{
    auto top = co_await git(args("rev-parse", "--show-toplevel"), true);
    if (!top)
        co_return top.error();
    co_return top->succeeded() && trim_newline(top->stdout_text) == ws_.root().string();
}

asio::awaitable<ws_result<bool>> git_repository::ensure_repository()
{
    auto repo = co_await is_repository();
    if (!repo)
        co_return repo.error();
    if (*repo)
        co_return false;
    auto init = co_await git(args("init", "-q"));
    if (!init)
        co_return init.error();
    co_return true;
}

asio::awaitable<ws_result<std::vector<std::string>>> git_repository::dirty_paths()
{
    auto repo = co_await is_repository();
    if (!repo)
        co_return repo.error();
    if (!*repo)
        co_return files_in_tree(ws_.root(), options_.excluded);
    std::vector<std::string> args = {"status", "--porcelain=v1", "-z", "--untracked-files=all"};
    const auto spec = pathspec(options_.excluded);
    args.insert(args.end(), spec.begin(), spec.end());
    auto r = co_await git(args);
    if (!r)
        co_return r.error();
    std::vector<std::string> paths;
    const std::string& out = r->stdout_text;
    for (std::size_t start = 0; start < out.size();)
    {
        const auto end = std::min(out.find('\0', start), out.size());
        const std::string entry = out.substr(start, end - start);
        start = end + 1;
        if (entry.size() > 3)
            paths.push_back(entry.substr(3));
        if (entry.size() > 1 && (entry[0] == 'R' || entry[0] == 'C'))  // the rename's source follows
            start = std::min(out.find('\0', start), out.size()) + 1;
    }
    co_return paths;
}

asio::awaitable<ws_result<void>> git_repository::require_clean(bool allow_dirty)
{
    if (allow_dirty)
        co_return ws_result<void>{};
    auto repo = co_await is_repository();
    if (!repo)
        co_return repo.error();
    auto dirty = co_await dirty_paths();
    if (!dirty)
        co_return dirty.error();
    if (dirty->empty())
        co_return ws_result<void>{};
    std::string list;
    for (std::size_t i = 0; i < dirty->size() && i < 10; ++i)
        list += (i ? ", " : "") + printable_path((*dirty)[i]);
    if (dirty->size() > 10)
        list += ", … (" + std::to_string(dirty->size()) + " in all)";
    if (!*repo)
        co_return make_workspace_error(git_errc::dirty_checkout, {},
                                       "`" + ws_.root().string() + "` is not a git repository and holds files (" +
                                           list + ") that would go into the run's first commit; use an empty "
                                                  "directory or a clean checkout, or pass --allow-dirty");
    co_return make_workspace_error(git_errc::dirty_checkout, {},
                                   "the checkout `" + ws_.root().string() + "` has uncommitted changes (" + list +
                                       "); commit or stash them, or pass --allow-dirty");
}

asio::awaitable<ws_result<void>> git_repository::checkout_run_branch(std::string run_id,
                                                                     std::optional<std::string> start_point)
{
    const std::string branch = branch_name(run_id);
    auto exists = co_await git(args("rev-parse", "--verify", "-q", "refs/heads/" + branch), true);
    if (!exists)
        co_return exists.error();
    ws_result<command_result> r = exists;
    if (exists->succeeded())
        r = co_await git(args("checkout", "-q", branch));
    else if (start_point)
        r = co_await git(args("checkout", "-q", "-b", branch, *start_point));
    else if (auto h = co_await head(); !h)
        co_return h.error();
    else if (*h)
        r = co_await git(args("checkout", "-q", "-b", branch));
    else
        r = co_await git(args("symbolic-ref", "HEAD", "refs/heads/" + branch));
    if (!r)
        co_return r.error();
    co_return ws_result<void>{};
}

asio::awaitable<ws_result<std::optional<std::string>>> git_repository::commit_phase(phase_commit_info info)
{
    std::vector<std::string> add = {"add", "-A"};
    const auto spec = pathspec(options_.excluded);
    add.insert(add.end(), spec.begin(), spec.end());
    if (auto r = co_await git(add); !r)
        co_return r.error();
    auto diff = co_await git(args("diff", "--cached", "--quiet"), true);
    if (!diff)
        co_return diff.error();
    if (diff->exit_code == 0)
        co_return std::optional<std::string>{};  // nothing changed: no commit
    if (diff->exit_code != 1)
        co_return make_workspace_error(git_errc::git_failed, {},
                                       "`git diff --cached --quiet` failed: " + stderr_excerpt(*diff));
    if (auto r = co_await git(args("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", commit_message(info))); !r)
        co_return r.error();
    auto h = co_await head();
    if (!h)
        co_return h.error();
    co_return *h;
}

asio::awaitable<ws_result<void>> git_repository::restore(std::string commit)
{
    auto known = co_await git(args("rev-parse", "--verify", "-q", commit + "^{commit}"), true);
    if (!known)
        co_return known.error();
    if (!known->succeeded())
        co_return make_workspace_error(git_errc::unknown_commit, {},
                                       "cannot restore the workspace: no commit `" + printable_path(commit) + "`");
    if (auto r = co_await git(args("reset", "-q", "--hard", trim_newline(known->stdout_text))); !r)
        co_return r.error();
    std::vector<std::string> clean = {"clean", "-q", "-f", "-d"};
    for (const auto& e : options_.excluded)
    {
        clean.push_back("-e");
        clean.push_back(e);
    }
    if (auto r = co_await git(clean); !r)
        co_return r.error();
    co_return ws_result<void>{};
}

asio::awaitable<ws_result<std::vector<run_commit>>> git_repository::run_commits(std::string run_id)
{
    const std::string branch = branch_name(run_id);
    auto exists = co_await git(args("rev-parse", "--verify", "-q", "refs/heads/" + branch), true);
    if (!exists)
        co_return exists.error();
    if (!exists->succeeded())
        co_return std::vector<run_commit>{};
    auto log = co_await git(args("log", "--format=%H%x1f%s%x1f%B%x1e", "--fixed-strings", "--grep=EP-Run: " + run_id,
                             "refs/heads/" + branch));
    if (!log)
        co_return log.error();
    std::vector<run_commit> out;
    std::istringstream records(log->stdout_text);
    for (std::string record; std::getline(records, record, '\x1e');)
    {
        if (!record.empty() && record.front() == '\n')
            record.erase(0, 1);
        const auto a = record.find('\x1f');
        const auto b = a == std::string::npos ? a : record.find('\x1f', a + 1);
        if (b == std::string::npos)
            continue;
        const std::string body = record.substr(b + 1);
        if (trailer(body, "EP-Run") != run_id)
            continue;
        run_commit c;
        c.id = record.substr(0, a);
        c.subject = record.substr(a + 1, b - a - 1);
        c.phase = trailer(body, "EP-Phase").value_or("");
        c.iteration = to_int(trailer(body, "EP-Iteration")).value_or(1);
        c.item = to_int(trailer(body, "EP-Item"));
        c.provider = trailer(body, "EP-Provider").value_or("");
        c.model = trailer(body, "EP-Model").value_or("");
        out.push_back(std::move(c));
    }
    co_return out;
}

asio::awaitable<ws_result<std::optional<std::string>>> git_repository::head()
{
    auto r = co_await git(args("rev-parse", "--verify", "-q", "HEAD"), true);
    if (!r)
        co_return r.error();
    if (!r->succeeded())
        co_return std::optional<std::string>{};
    co_return std::optional<std::string>{trim_newline(r->stdout_text)};
}

}  // namespace ep::engine
