// Opening a run's workspace: its directory (recorded with the run, so resume and fork use the
// same one) and, with git, its branch restored to the last completed phase instance's commit.
#include "run/workspace_steps.hpp"

#include <ep/engine/error.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;
namespace fs = std::filesystem;

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

ps::store_error workspace_failure(const std::string& what)
{
    return ps::store_error(ps::persistence_errc::invalid_argument, what);
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

// The run's branch: a new run's at HEAD; a resumed run's (a fork is resumed after its phases
// were copied) restored to its last completed instance's commit, else its parent's, else the
// commit the run started from.
asio::awaitable<ws_result<void>> prepare_branch(run_state& rs, const ps::run_record& run, const nlohmann::json& recorded,
                                                bool is_new)
{
    auto& git = *rs.work.git;
    if (auto made = co_await git.ensure_repository(); !made)
        co_return made.error();
    std::optional<std::string> target;
    if (!is_new)
    {
        auto own = co_await last_completed_commit(rs, rs.run_id);
        if (!own)
            co_return own.error();
        target = *own;
        if (!target && !run.parent_run_id.empty())
        {
            auto inherited = co_await last_completed_commit(rs, run.parent_run_id);
            if (!inherited)
                co_return inherited.error();
            target = *inherited;
        }
        if (!target && recorded.contains("base") && recorded["base"].is_string())
            target = recorded["base"].get<std::string>();
    }
    else if (auto clean = co_await git.require_clean(rs.req.workspace.allow_dirty); !clean)
        co_return clean.error();
    if (auto on = co_await git.checkout_run_branch(rs.run_id, target); !on)
        co_return on.error();
    if (target)
        if (auto back = co_await git.restore(*target); !back)
            co_return back.error();
    co_return ws_result<void>{};
}

}  // namespace

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
