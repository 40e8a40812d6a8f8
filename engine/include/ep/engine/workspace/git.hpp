#pragma once
// Git for a run's workspace (`git: true` / `--git`): one branch per run, one commit per phase
// instance that changed files, restore to a commit for resume and fork.
//
// Uses the `git` program through a command_runner, not libgit2: every operation is a command
// line one can read and replay by hand, the user's git (and its repository format) is the one
// that reads the result, and there is no library ABI to track. Each call runs with:
// - a scrubbed environment (the runner's) plus GIT_CONFIG_NOSYSTEM=1, GIT_CONFIG_GLOBAL=/dev/null
//   (no user or system configuration), GIT_TERMINAL_PROMPT=0, LC_ALL=C, the author and committer
//   set explicitly, and GIT_CEILING_DIRECTORIES at the workspace's parent (a workspace inside
//   another repository gets its own);
// - `-c` overrides that beat the repository's own config: no hooks (core.hooksPath=/dev/null,
//   and --no-verify), no signing, no fsmonitor, no autocrlf, no pager or colour;
// - paths in `excluded` (`.ep` by default: the store and default workspaces when the user's
//   checkout is the workspace) are never committed and never make a checkout dirty.
// Give it a runner whose sandbox is disabled (git is trusted and bubblewrap per call is slow).
//
// Coroutine arguments are taken by value, so calls may be spawned with temporaries.
//
// Errors: git_missing (no git program), git_failed (the command line and git's stderr),
// dirty_checkout, unknown_commit, and the runner's own (command_errc).
//
// @par Per-operation cancellation
// As the runner's (terminal): the running git process is killed and the call returns its
// error; an interrupted commit may leave .git/index.lock behind, which the next call reports.
//
// @par Thread safety
// Strand-confined, like the runner. Calls on one repository must not overlap (git's own
// index lock would refuse the second).

#include <ep/engine/workspace/command.hpp>
#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/workspace.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ep::engine {

struct git_options
{
    std::filesystem::path git;  // empty: `git` on the runner's PATH
    std::string author_name = "EP";
    std::string author_email = "ep@localhost";
    std::chrono::milliseconds timeout = std::chrono::minutes(2);  // per git command
    std::vector<std::string> excluded = {".ep"};
};

/// What a phase commit records (the trailers).
struct phase_commit_info
{
    std::string run_id;
    std::string phase;
    int iteration = 1;
    std::optional<int> item;
    std::string provider;
    std::string model;
};

/// A commit of a run, read back from its trailers.
struct run_commit
{
    std::string id;  // full hex object id
    std::string subject;
    std::string phase;
    int iteration = 1;
    std::optional<int> item;
    std::string provider;
    std::string model;
};

class git_repository
{
public:
    /// `runner` and `ws` are not owned and must outlive the object.
    git_repository(command_runner& runner, const workspace& ws, git_options options = {});

    /// "ep/RUN_ID".
    static std::string branch_name(const std::string& run_id);
    /// "ep: PHASE (iteration N, item I)" + a blank line + the EP-* trailers.
    static std::string commit_message(const phase_commit_info& info);

    /// Whether the workspace root is the top level of a repository (only then is it used as one).
    asio::awaitable<ws_result<bool>> is_repository();

    /// Makes the workspace root a repository (`git init`) unless it already is the top level of
    /// one. Returns true when it created one.
    asio::awaitable<ws_result<bool>> ensure_repository();

    /// Uncommitted changes (tracked and untracked), excluded paths left out. Before the root is a
    /// repository: every file in it (each would be untracked once ensure_repository ran), so a
    /// run can be refused before it writes anything, `.git` included.
    asio::awaitable<ws_result<std::vector<std::string>>> dirty_paths();

    /// dirty_checkout (naming up to 10 paths) when there are uncommitted changes, unless
    /// `allow_dirty`. Reads only: it may be called before ensure_repository.
    asio::awaitable<ws_result<void>> require_clean(bool allow_dirty);

    /// Switches to branch ep/RUN_ID: checks it out when it exists (resume); otherwise creates it
    /// at `start_point` (fork: the commit to continue from), else at HEAD, else (a repository
    /// with no commit yet) makes it the unborn current branch.
    asio::awaitable<ws_result<void>> checkout_run_branch(std::string run_id,
                                                         std::optional<std::string> start_point = {});

    /// Stages everything (excluded paths left out) and commits it with commit_message(info),
    /// author and committer from the options. Returns the new commit id, or nullopt when
    /// nothing changed (no commit is made).
    asio::awaitable<ws_result<std::optional<std::string>>> commit_phase(phase_commit_info info);

    /// Resets the work tree and the current branch to `commit` and removes untracked files
    /// (ignored and excluded files stay). unknown_commit when it does not exist.
    asio::awaitable<ws_result<void>> restore(std::string commit);

    /// The commits on ep/RUN_ID whose EP-Run trailer is RUN_ID, newest first (empty when the
    /// branch does not exist).
    asio::awaitable<ws_result<std::vector<run_commit>>> run_commits(std::string run_id);

    /// The current commit, or nullopt before the first one.
    asio::awaitable<ws_result<std::optional<std::string>>> head();

private:
    asio::awaitable<ws_result<command_result>> git(std::vector<std::string> args, bool allow_failure = false);

    command_runner& runner_;
    const workspace& ws_;
    git_options options_;
};

}  // namespace ep::engine
