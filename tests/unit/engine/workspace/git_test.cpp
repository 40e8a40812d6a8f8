// git_repository in temporary repositories, through the real runner and the real git.
#include "workspace_test_util.hpp"

#include "io_fixture.hpp"
#include "scripted_command_runner.hpp"

#include <ep/engine/workspace/git.hpp>

#include <algorithm>

namespace ep::engine::ws_test {
namespace {

using namespace std::chrono_literals;

class git_fixture : public test::io_fixture
{
protected:
    temp_dir tmp;
    fs::path ws_root = tmp.path() / "repo";
    std::optional<workspace> ws;
    std::optional<process_command_runner> runner;
    std::optional<git_repository> repo;

    void SetUp() override
    {
        fs::create_directories(ws_root);
        auto opened = workspace::open(ws_root);
        ASSERT_TRUE(opened) << opened.error().message;
        ws.emplace(std::move(*opened));
        command_options o;
        o.sandbox = sandbox_mode::disabled;
        o.temp_root = tmp.path();
        runner.emplace(ctx.get_executor(), o);
        repo.emplace(*runner, *ws);
    }

    template <class T>
    T ok(boost::asio::awaitable<ws_result<T>> op)
    {
        auto r = run(std::move(op), 60s);
        if (!r)
            throw std::runtime_error(r.error().message);
        return std::move(*r);
    }
    void ok(boost::asio::awaitable<ws_result<void>> op)
    {
        auto r = run(std::move(op), 60s);
        if (!r)
            throw std::runtime_error(r.error().message);
    }

    /// A plain git command in the repository (for assertions), stdout returned.
    std::string git(std::vector<std::string> args)
    {
        command_spec s;
        s.argv = {"git"};
        s.argv.insert(s.argv.end(), args.begin(), args.end());
        s.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}};
        auto r = run(runner->run(s, *ws), 60s);
        if (!r || !r->succeeded())
            throw std::runtime_error("git failed: " + (r ? r->output : r.error().message));
        return r->stdout_text;
    }

    phase_commit_info info(const std::string& phase, int iteration = 1, std::optional<int> item = {})
    {
        return {"20260101T000000Z-abc", phase, iteration, item, "emulator", "emu-large"};
    }
};

TEST_F(git_fixture, commit_message_names_the_phase_and_carries_the_trailers)
{
    EXPECT_EQ(git_repository::commit_message(info("implement", 2, 3)),
              "ep: implement (iteration 2, item 3)\n\nEP-Run: 20260101T000000Z-abc\nEP-Phase: implement\n"
              "EP-Iteration: 2\nEP-Item: 3\nEP-Provider: emulator\nEP-Model: emu-large\n");
    EXPECT_EQ(git_repository::commit_message(info("design")).substr(0, 12), "ep: design\n\n");
    EXPECT_EQ(git_repository::branch_name("R1"), "ep/R1");
}

TEST_F(git_fixture, a_run_branch_gets_one_commit_per_phase_that_changed_files)
{
    EXPECT_TRUE(ok(repo->ensure_repository()));
    EXPECT_FALSE(ok(repo->ensure_repository())) << "an existing repository is not re-initialised";
    ok(repo->checkout_run_branch("20260101T000000Z-abc"));
    EXPECT_EQ(git({"symbolic-ref", "HEAD"}), "refs/heads/ep/20260101T000000Z-abc\n");

    ASSERT_TRUE(ws->write_file("src/lru.py", "class LRU: pass\n"));
    const auto first = ok(repo->commit_phase(info("implement")));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->size(), 40u);
    EXPECT_FALSE(ok(repo->commit_phase(info("review")))) << "nothing changed: no commit";

    ASSERT_TRUE(ws->write_file("tests/test_lru.py", "import unittest\n"));
    const auto second = ok(repo->commit_phase(info("implement", 2)));
    ASSERT_TRUE(second);

    EXPECT_EQ(git({"log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"}), "EP <ep@localhost>|EP <ep@localhost>|ep: implement "
                                                                      "(iteration 2)\n");
    EXPECT_EQ(git({"log", "-1", "--format=%(trailers:key=EP-Phase,valueonly)"}), "implement\n\n");
    const auto commits = ok(repo->run_commits("20260101T000000Z-abc"));
    ASSERT_EQ(commits.size(), 2u);
    EXPECT_EQ(commits[0].id, *second);
    EXPECT_EQ(commits[0].phase, "implement");
    EXPECT_EQ(commits[0].iteration, 2);
    EXPECT_EQ(commits[0].provider, "emulator");
    EXPECT_EQ(commits[0].model, "emu-large");
    EXPECT_EQ(commits[1].id, *first);
    EXPECT_EQ(commits[1].iteration, 1);
    EXPECT_FALSE(commits[1].item);
    EXPECT_TRUE(ok(repo->run_commits("other-run")).empty());
}

TEST_F(git_fixture, restore_returns_the_tree_to_a_commit_and_drops_untracked_files)
{
    ok(repo->ensure_repository());
    ok(repo->checkout_run_branch("R"));
    ASSERT_TRUE(ws->write_file("a.txt", "v1\n"));
    const auto first = ok(repo->commit_phase(info("one")));
    ASSERT_TRUE(ws->write_file("a.txt", "v2\n"));
    ASSERT_TRUE(ws->write_file("b.txt", "b\n"));
    ASSERT_TRUE(ok(repo->commit_phase(info("two"))));
    ASSERT_TRUE(ws->write_file("scratch/untracked.txt", "half-done\n"));
    write_text(ws_root / ".ep" / "runs.db", "the store");

    ok(repo->restore(*first));
    EXPECT_EQ(read_text(ws_root / "a.txt"), "v1\n");
    EXPECT_FALSE(fs::exists(ws_root / "b.txt"));
    EXPECT_FALSE(fs::exists(ws_root / "scratch"));
    EXPECT_EQ(read_text(ws_root / ".ep" / "runs.db"), "the store") << "excluded paths survive a restore";
    EXPECT_EQ(ok(repo->head()), first);

    auto unknown = run(repo->restore("0123456789abcdef0123456789abcdef01234567"), 60s);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, make_error_code(git_errc::unknown_commit));
}

TEST_F(git_fixture, a_fork_branches_from_a_given_commit_and_a_resume_checks_out_its_branch)
{
    ok(repo->ensure_repository());
    ok(repo->checkout_run_branch("R1"));
    ASSERT_TRUE(ws->write_file("a.txt", "1\n"));
    const auto c1 = ok(repo->commit_phase(info("one")));
    ASSERT_TRUE(ws->write_file("a.txt", "2\n"));
    ASSERT_TRUE(ok(repo->commit_phase(info("two"))));

    ok(repo->checkout_run_branch("R2", *c1));
    EXPECT_EQ(git({"symbolic-ref", "--short", "HEAD"}), "ep/R2\n");
    EXPECT_EQ(read_text(ws_root / "a.txt"), "1\n");

    ok(repo->checkout_run_branch("R1"));
    EXPECT_EQ(git({"symbolic-ref", "--short", "HEAD"}), "ep/R1\n");
    EXPECT_EQ(read_text(ws_root / "a.txt"), "2\n");
}

TEST_F(git_fixture, a_dirty_user_checkout_is_refused_unless_allowed_and_ep_files_do_not_count)
{
    ok(repo->ensure_repository());
    write_text(ws_root / "committed.txt", "x\n");
    git({"add", "committed.txt"});
    git({"-c", "user.name=U", "-c", "user.email=u@x", "commit", "-q", "-m", "user commit"});
    write_text(ws_root / ".ep" / "runs.db", "store");
    write_text(ws_root / ".ep" / "workspaces" / "R" / "f", "other run");
    EXPECT_TRUE(ok(repo->dirty_paths()).empty());
    ok(repo->require_clean(false));

    write_text(ws_root / "committed.txt", "changed\n");
    write_text(ws_root / "new file.txt", "new\n");
    auto refused = run(repo->require_clean(false), 60s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, make_error_code(git_errc::dirty_checkout));
    EXPECT_NE(refused.error().message.find("committed.txt"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("new file.txt"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("--allow-dirty"), std::string::npos);
    ok(repo->require_clean(true));

    // The run branch starts from the user's HEAD and carries the allowed changes along.
    ok(repo->checkout_run_branch("R"));
    const auto c = ok(repo->commit_phase(info("p")));
    ASSERT_TRUE(c);
    EXPECT_EQ(git({"show", "--name-only", "--format=", "HEAD"}), "committed.txt\nnew file.txt\n");
}

TEST_F(git_fixture, before_git_init_every_file_counts_as_a_change_and_nothing_is_written)
{
    EXPECT_TRUE(ok(repo->dirty_paths()).empty()) << "an empty directory is clean";
    ok(repo->require_clean(false));
    write_text(ws_root / "src" / "main.c", "int x;\n");
    write_text(ws_root / "README", "r\n");
    write_text(ws_root / ".ep" / "runs.db", "store");  // excluded, as in a repository
    fs::create_directories(ws_root / "empty");       // git does not track directories
    EXPECT_EQ(ok(repo->dirty_paths()), (std::vector<std::string>{"README", "src/main.c"}));
    auto refused = run(repo->require_clean(false), 60s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, make_error_code(git_errc::dirty_checkout));
    EXPECT_NE(refused.error().message.find("not a git repository"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("README, src/main.c"), std::string::npos) << refused.error().message;
    EXPECT_FALSE(fs::exists(ws_root / ".git")) << "checking wrote nothing";
    EXPECT_FALSE(ok(repo->is_repository()));
    EXPECT_TRUE(ok(repo->ensure_repository()));
    EXPECT_TRUE(ok(repo->is_repository()));
    EXPECT_EQ(ok(repo->dirty_paths()), (std::vector<std::string>{"README", "src/main.c"})) << "the same after git init";
}

TEST_F(git_fixture, hooks_signing_and_fsmonitor_from_the_repository_config_are_ignored)
{
    ok(repo->ensure_repository());
    ok(repo->checkout_run_branch("R"));
    // A repository that asks for hooks, signing and an fsmonitor command; none may run.
    const fs::path marker = tmp.path() / "hook-ran";
    write_text(ws_root / ".git" / "hooks" / "pre-commit", "#!/bin/sh\ntouch " + marker.string() + "\nexit 1\n");
    fs::permissions(ws_root / ".git" / "hooks" / "pre-commit", fs::perms::owner_all);
    write_text(ws_root / "myhooks" / "commit-msg", "#!/bin/sh\ntouch " + marker.string() + "\nexit 1\n");
    fs::permissions(ws_root / "myhooks" / "commit-msg", fs::perms::owner_all);
    git({"config", "core.hooksPath", "myhooks"});
    git({"config", "commit.gpgsign", "true"});
    git({"config", "core.fsmonitor", "touch " + marker.string()});
    ASSERT_TRUE(ws->write_file("f.txt", "x\n"));
    const auto c = ok(repo->commit_phase(info("p")));
    EXPECT_TRUE(c);
    EXPECT_FALSE(fs::exists(marker)) << "a hook or the fsmonitor ran";
}

TEST_F(git_fixture, a_workspace_inside_another_repository_gets_its_own)
{
    // The outer repository is tmp/; the workspace tmp/repo must not commit into it.
    command_spec init;
    init.argv = {"git", "init", "-q", tmp.path().string()};
    ASSERT_TRUE(run(runner->run(init, *ws), 60s));
    EXPECT_TRUE(ok(repo->ensure_repository()));
    EXPECT_TRUE(fs::exists(ws_root / ".git"));
}

TEST_F(git_fixture, a_missing_git_program_is_a_clear_error)
{
    git_options o;
    o.git = tmp.path() / "no-git-here";
    git_repository broken(*runner, *ws, o);
    auto r = run(broken.ensure_repository(), 60s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(git_errc::git_missing));
    EXPECT_NE(r.error().message.find("git"), std::string::npos);
}

}  // namespace
}  // namespace ep::engine::ws_test

namespace ep::engine::ws_test {
namespace {

class git_command_lines : public test::io_fixture
{
protected:
    temp_dir tmp;
};

TEST_F(git_command_lines, every_git_call_is_hardened_and_a_phase_without_changes_makes_no_commit)
{
    auto ws = workspace::open(tmp.path() / "repo");
    ASSERT_TRUE(ws);
    // `git diff --cached --quiet` exits 0: nothing staged.
    test::scripted_command_runner fake;
    git_repository repo(fake, *ws);
    auto r = run(repo.commit_phase({"R", "p", 1, {}, "emulator", "m"}), 10s);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(*r);
    ASSERT_EQ(fake.calls.size(), 2u);  // add, diff — no commit
    for (const auto& spec : fake.calls)
    {
        EXPECT_FALSE(spec.shell);
        EXPECT_EQ(spec.argv.front(), "git");
        const auto has = [&](const std::string& a) {
            return std::find(spec.argv.begin(), spec.argv.end(), a) != spec.argv.end();
        };
        EXPECT_TRUE(has("core.hooksPath=/dev/null"));
        EXPECT_TRUE(has("commit.gpgsign=false"));
        EXPECT_TRUE(has("core.fsmonitor=false"));
        EXPECT_EQ(spec.env.at("GIT_CONFIG_NOSYSTEM"), "1");
        EXPECT_EQ(spec.env.at("GIT_CONFIG_GLOBAL"), "/dev/null");
        EXPECT_EQ(spec.env.at("GIT_AUTHOR_NAME"), "EP");
        EXPECT_EQ(spec.env.at("GIT_CEILING_DIRECTORIES"), ws->root().parent_path().string());
    }
    const auto& add = fake.calls[0].argv;
    EXPECT_EQ(std::vector<std::string>(add.end() - 5, add.end()),
              (std::vector<std::string>{"add", "-A", "--", ".", ":(exclude).ep"}));
}

TEST_F(git_command_lines, a_failing_git_command_is_reported_with_its_stderr)
{
    auto ws = workspace::open(tmp.path() / "repo");
    ASSERT_TRUE(ws);
    test::scripted_command_runner fake([](const command_spec& spec) -> ws_result<command_result> {
        auto r = test::scripted_command_runner::ok_result(spec);
        r.exit_code = 128;
        r.stderr_text = "fatal: not a git repository\n";
        return r;
    });
    git_repository repo(fake, *ws);
    auto r = run(repo.restore("abc"), 10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(git_errc::unknown_commit));
    auto c = run(repo.checkout_run_branch("R"), 10s);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(git_errc::git_failed));
    EXPECT_NE(c.error().message.find("fatal: not a git repository"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("exit code 128"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace ep::engine::ws_test
