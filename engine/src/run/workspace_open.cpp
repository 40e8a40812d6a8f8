// Opening a run's workspace: its directory (recorded with the run, so resume and fork use the
// same one) and, with git, its branch restored to the last completed phase instance's commit.
#include "run/workspace_steps.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine {

namespace fs = std::filesystem;

std::optional<std::string> workspace_conflict(const nlohmann::json& run_options, const fs::path& asked)
{
    if (asked.empty() || !run_options.is_object())
        return std::nullopt;
    const auto recorded = run_options.value("workspace", nlohmann::json::object());
    if (!recorded.is_object() || !recorded.contains("dir") || !recorded["dir"].is_string())
        return std::nullopt;
    const fs::path dir = recorded["dir"].get<std::string>();
    std::error_code ec;
    const auto wanted = fs::weakly_canonical(fs::absolute(asked, ec), ec);
    if (!ec && wanted == fs::path(dir))
        return std::nullopt;
    return "--workspace " + asked.string() + ": the run's workspace is " + dir.string() +
           " (its files and git branch are there); a resume, approval or fork continues in it — leave out "
           "--workspace, or start a new run to work in another directory";
}

}  // namespace ep::engine

namespace ep::engine::detail {

namespace ps = ep::persistence;

bool needs_workspace(const run_state& rs)
{
    if (rs.spec.git || rs.req.workspace.git.value_or(false) || !rs.req.workspace.dir.empty())
        return true;
    for (const auto& ph : rs.spec.phases)
        if (ph.kind == phase_kind::command || ph.files || !ph.tools.empty())
            return true;
    return false;
}

namespace {

// `cause` is the workspace or git error (the runtime tells bad input, such as a dirty checkout,
// from a store failure by it).
ps::store_error workspace_failure(const std::string& what, boost::system::error_code cause = {})
{
    return ps::store_error(ps::persistence_errc::invalid_argument, what, cause);
}

// A new run with git on, in an existing directory (`--workspace .`): uncommitted changes refuse
// it unless --allow-dirty. Checked before the run is created, so a refusal writes nothing.
asio::awaitable<ps::result<void>> require_clean_checkout(run_services& sv, run_state& rs)
{
    const auto& asked = rs.req.workspace;
    std::error_code ec;
    if (asked.allow_dirty || asked.dir.empty() || !asked.git.value_or(rs.spec.git) || !fs::is_directory(asked.dir, ec))
        co_return ps::result<void>{};  // BASE/RUN_ID or a missing directory: created empty
    auto ws = workspace::open(asked.dir, {}, false);
    if (!ws)
        co_return workspace_failure("cannot open the workspace " + asked.dir.string() + ": " + ws.error().str(),
                                    ws.error().code);
    command_options git_opts = sv.opts.commands;
    git_opts.sandbox = sandbox_mode::disabled;
    process_command_runner runner(rs.done.get_executor(), git_opts);
    git_repository git(runner, *ws);
    if (auto clean = co_await git.require_clean(false); !clean)
        co_return workspace_failure("git in " + ws->root().string() + ": " + clean.error().str(), clean.error().code);
    co_return ps::result<void>{};
}

// The newest commit of `run_id` whose instance is completed in this run's store (a commit made
// by an instance whose checkpoint never landed does not count), or nullopt.
asio::awaitable<ws_result<std::optional<std::string>>> last_completed_commit(run_state& rs, std::string run_id)
{
    auto commits = co_await rs.work.git->run_commits(run_id);
    if (!commits)
        co_return commits.error();
    for (const auto& c : *commits)
    {
        auto it = rs.stored.find(instance_key{c.phase, c.iteration, c.item});
        if (it != rs.stored.end() && it->second.status == ps::phase_status::completed)
            co_return std::optional<std::string>(c.id);
    }
    co_return std::optional<std::string>{};
}

// Where a resumed run's tree goes back to (a fork is resumed after its phases were copied): its
// last completed instance's commit, else its parent's, else the commit the run started from.
asio::awaitable<ws_result<std::optional<std::string>>> restore_point(run_state& rs, const ps::run_record& run,
                                                                     const nlohmann::json& recorded)
{
    auto own = co_await last_completed_commit(rs, rs.run_id);
    if (!own || *own)
        co_return own;
    if (!run.parent_run_id.empty())
    {
        auto inherited = co_await last_completed_commit(rs, run.parent_run_id);
        if (!inherited || *inherited)
            co_return inherited;
    }
    if (recorded.contains("base") && recorded["base"].is_string())
        co_return std::optional<std::string>(recorded["base"].get<std::string>());
    co_return std::optional<std::string>{};
}

// The run's branch: a new run's at HEAD; a resumed run's restored to its restore_point.
asio::awaitable<ws_result<void>> prepare_branch(run_state& rs, const ps::run_record& run, const nlohmann::json& recorded,
                                                bool is_new)
{
    auto& git = *rs.work.git;
    if (auto made = co_await git.ensure_repository(); !made)
        co_return made.error();
    std::optional<std::string> target;
    if (!is_new)
    {
        auto point = co_await restore_point(rs, run, recorded);
        if (!point)
            co_return point.error();
        target = *point;
    }
    if (target)
    {
        // The tree is reset to `target` anyway: first drop what changed since the last commit
        // (by hand, or by a phase killed half-way), which could make the switch to the run's
        // branch refuse ("your local changes would be overwritten").
        auto head = co_await git.head();
        if (!head)
            co_return head.error();
        if (*head)
            if (auto dropped = co_await git.restore(**head); !dropped)
                co_return dropped.error();
    }
    if (auto on = co_await git.checkout_run_branch(rs.run_id, target); !on)
        co_return on.error();
    if (target)
        if (auto back = co_await git.restore(*target); !back)
            co_return back.error();
    co_return ws_result<void>{};
}

}  // namespace

asio::awaitable<ps::result<void>> check_workspace_request(run_services& sv, run_state& rs)
{
    if (!needs_workspace(rs))
        co_return ps::result<void>{};
    if (rs.req.resume_run_id.empty())
        co_return co_await require_clean_checkout(sv, rs);
    if (rs.req.workspace.dir.empty())
        co_return ps::result<void>{};
    auto run = co_await sv.store.get_run(rs.req.resume_run_id);
    if (!run)
        co_return ps::result<void>{};  // open_run reports it
    if (auto conflict = workspace_conflict(run->options, rs.req.workspace.dir))
        co_return workspace_failure(*conflict, make_error_code(workspace_errc::other_workspace));
    co_return ps::result<void>{};
}

asio::awaitable<ps::result<void>> open_workspace(run_services& sv, run_state& rs)
{
    if (!needs_workspace(rs))
        co_return ps::result<void>{};
    auto run = co_await sv.store.get_run(rs.run_id);
    if (!run)
        co_return run.error();
    nlohmann::json options = run->options.is_object() ? run->options : nlohmann::json::object();
    nlohmann::json recorded = options.value("workspace", nlohmann::json::object());
    const bool is_new = rs.req.resume_run_id.empty();
    fs::path dir = rs.req.workspace.dir;
    if (dir.empty() && recorded.contains("dir") && recorded["dir"].is_string())
        dir = recorded["dir"].get<std::string>();  // a resume, or a fork (the parent's options)
    if (dir.empty())
        dir = rs.req.workspace.base / rs.run_id;
    std::error_code ec;
    dir = fs::absolute(dir, ec);
    bool git = rs.req.workspace.git.value_or(recorded.value("git", rs.spec.git));
    auto ws = workspace::open(dir, {}, true);
    if (!ws)
        co_return workspace_failure("cannot open the workspace " + dir.string() + ": " + ws.error().str());
    rs.work.ws.emplace(std::move(*ws));
    auto ex = rs.done.get_executor();
    rs.work.runner = std::make_unique<process_command_runner>(ex, sv.opts.commands);
    if (git)
    {
        command_options git_opts = sv.opts.commands;
        git_opts.sandbox = sandbox_mode::disabled;
        rs.work.git_runner = std::make_unique<process_command_runner>(ex, git_opts);
        rs.work.git = std::make_unique<git_repository>(*rs.work.git_runner, *rs.work.ws);
        rs.work.branch = git_repository::branch_name(rs.run_id);
        if (auto ready = co_await prepare_branch(rs, *run, recorded, is_new); !ready)
            co_return workspace_failure("git in " + dir.string() + ": " + ready.error().str());
    }
    if (is_new || !recorded.contains("dir"))
    {
        recorded = {{"dir", rs.work.ws->root().string()}, {"git", git}};
        if (git)
        {
            auto head = co_await rs.work.git->head();
            recorded["base"] = head && *head ? nlohmann::json(**head) : nlohmann::json();
        }
        options["workspace"] = recorded;
        if (auto r = co_await sv.store.set_run_options(rs.run_id, options); !r)
            co_return r.error();
    }
    sv.log.info("run {}: workspace {}{}", rs.run_id, rs.work.ws->root().string(),
                git ? " (git branch " + rs.work.branch + ")" : std::string());
    co_return ps::result<void>{};
}

}  // namespace ep::engine::detail
