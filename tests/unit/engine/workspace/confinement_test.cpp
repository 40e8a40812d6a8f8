// Every escape the issue lists, against the real file system: each row prepares links, FIFOs or
// devices inside the workspace, attempts one operation, expects its refusal code, and checks
// that the sentinel tree beside the workspace is byte-for-byte unchanged.
#include "workspace_test_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <functional>

namespace ep::engine::ws_test {
namespace {

enum class op { write, read, list, cwd };

struct escape_case
{
    const char* name;
    std::function<void(const fs::path& ws, const fs::path& sentinel)> prepare;
    op operation;
    std::function<std::string(const fs::path& sentinel)> path;
    workspace_errc expected;
};

std::string fixed(const char* p) { return p; }

auto link(const char* at, std::string target)
{
    return [at, target](const fs::path& ws, const fs::path&) {
        fs::create_directories((ws / at).parent_path());
        fs::create_symlink(target, ws / at);
    };
}

auto link_to_sentinel(const char* at, const char* inside)
{
    return [at, inside](const fs::path& ws, const fs::path& sentinel) {
        fs::create_symlink(sentinel / inside, ws / at);
    };
}

void nothing(const fs::path&, const fs::path&) {}

class escape : public sandbox_fixture, public ::testing::WithParamInterface<escape_case>
{
};

TEST_P(escape, is_refused_and_nothing_outside_changes)
{
    const auto& c = GetParam();
    c.prepare(ws_root, sentinel);
    auto ws = open_ws();
    const std::string path = c.path(sentinel);
    workspace_error err;
    bool refused = false;
    switch (c.operation)
    {
    case op::write:
        if (auto r = ws.write_file(path, "pwned\n"); !r)
            refused = true, err = r.error();
        break;
    case op::read:
        if (auto r = ws.read_file(path); !r)
            refused = true, err = r.error();
        break;
    case op::list:
        if (auto r = ws.list_files(path); !r)
            refused = true, err = r.error();
        break;
    case op::cwd:
        if (auto r = ws.directory_path(path); !r)
            refused = true, err = r.error();
        break;
    }
    ASSERT_TRUE(refused) << c.name << ": `" << path << "` was not refused";
    EXPECT_EQ(err.code, make_error_code(c.expected)) << err.message;
    EXPECT_FALSE(err.message.empty());
    expect_sentinel_unchanged();
}

INSTANTIATE_TEST_SUITE_P(
    every_escape, escape,
    ::testing::Values(
        escape_case{"absolute_write", nothing, op::write,
                    [](const fs::path& s) { return (s / "victim.txt").string(); }, workspace_errc::absolute_path},
        escape_case{"absolute_read", nothing, op::read,
                    [](const fs::path& s) { return (s / "victim.txt").string(); }, workspace_errc::absolute_path},
        escape_case{"dotdot_write", nothing, op::write, [](auto&) { return fixed("../sentinel/victim.txt"); },
                    workspace_errc::parent_reference},
        escape_case{"dotdot_in_middle", nothing, op::write,
                    [](auto&) { return fixed("src/../../sentinel/victim.txt"); }, workspace_errc::parent_reference},
        escape_case{"dotdot_read", nothing, op::read, [](auto&) { return fixed("../sentinel/victim.txt"); },
                    workspace_errc::parent_reference},
        escape_case{"backslash_dotdot", nothing, op::write, [](auto&) { return fixed("..\\sentinel\\victim.txt"); },
                    workspace_errc::invalid_path},
        escape_case{"nul_byte", nothing, op::write, [](auto&) { return std::string("a\0/../x", 7); },
                    workspace_errc::invalid_path},
        escape_case{"git_hook", nothing, op::write, [](auto&) { return fixed(".git/hooks/post-commit"); },
                    workspace_errc::reserved_path},
        escape_case{"relative_dir_link_write", link("out", "../sentinel"), op::write,
                    [](auto&) { return fixed("out/victim.txt"); }, workspace_errc::symlink_escape},
        escape_case{"relative_dir_link_new_file", link("out", "../sentinel"), op::write,
                    [](auto&) { return fixed("out/new.txt"); }, workspace_errc::symlink_escape},
        escape_case{"relative_dir_link_mkdir", link("out", "../sentinel"), op::write,
                    [](auto&) { return fixed("out/newdir/x.txt"); }, workspace_errc::symlink_escape},
        escape_case{"absolute_dir_link_write", link_to_sentinel("abs", ""), op::write,
                    [](auto&) { return fixed("abs/victim.txt"); }, workspace_errc::symlink_escape},
        escape_case{"chained_links", [](const fs::path& ws, const fs::path&) {
                        fs::create_symlink("b", ws / "a");
                        fs::create_symlink("../sentinel", ws / "b");
                    },
                    op::write, [](auto&) { return fixed("a/victim.txt"); }, workspace_errc::symlink_escape},
        escape_case{"link_climbing_from_a_subdir", link("d/up", "../.."), op::write,
                    [](auto&) { return fixed("d/up/sentinel/victim.txt"); }, workspace_errc::symlink_escape},
        escape_case{"inside_link_then_escape", [](const fs::path& ws, const fs::path&) {
                        fs::create_directories(ws / "d");
                        fs::create_symlink("d", ws / "in");
                        fs::create_symlink("../../sentinel", ws / "d" / "x");
                    },
                    op::write, [](auto&) { return fixed("in/x/victim.txt"); }, workspace_errc::symlink_escape},
        escape_case{"link_loop", [](const fs::path& ws, const fs::path&) {
                        fs::create_symlink("l2", ws / "l1");
                        fs::create_symlink("l1", ws / "l2");
                    },
                    op::write, [](auto&) { return fixed("l1/x"); }, workspace_errc::symlink_loop},
        escape_case{"final_link_read_relative", link("f", "../sentinel/victim.txt"), op::read,
                    [](auto&) { return fixed("f"); }, workspace_errc::symlink_escape},
        escape_case{"final_link_read_absolute", link_to_sentinel("f", "victim.txt"), op::read,
                    [](auto&) { return fixed("f"); }, workspace_errc::symlink_escape},
        escape_case{"list_through_link", link("out", "../sentinel"), op::list, [](auto&) { return fixed("out"); },
                    workspace_errc::symlink_escape},
        escape_case{"list_parent", nothing, op::list, [](auto&) { return fixed(".."); },
                    workspace_errc::parent_reference},
        escape_case{"cwd_parent", nothing, op::cwd, [](auto&) { return fixed("../sentinel"); },
                    workspace_errc::parent_reference},
        escape_case{"cwd_absolute", nothing, op::cwd, [](const fs::path& s) { return s.string(); },
                    workspace_errc::absolute_path},
        escape_case{"cwd_through_link", link("out", "../sentinel"), op::cwd, [](auto&) { return fixed("out"); },
                    workspace_errc::symlink_escape},
        escape_case{"cwd_is_a_file", [](const fs::path& ws, const fs::path&) { write_text(ws / "f.txt", "x"); },
                    op::cwd, [](auto&) { return fixed("f.txt"); }, workspace_errc::not_a_directory},
        escape_case{"cwd_missing", nothing, op::cwd, [](auto&) { return fixed("nope"); }, workspace_errc::not_found},
        escape_case{"file_used_as_directory", [](const fs::path& ws, const fs::path&) { write_text(ws / "f.txt", "x"); },
                    op::write, [](auto&) { return fixed("f.txt/x"); }, workspace_errc::not_a_directory},
        escape_case{"fifo_read", [](const fs::path& ws, const fs::path&) { ::mkfifo((ws / "pipe").c_str(), 0644); },
                    op::read, [](auto&) { return fixed("pipe"); }, workspace_errc::not_regular_file},
        escape_case{"fifo_write", [](const fs::path& ws, const fs::path&) { ::mkfifo((ws / "pipe").c_str(), 0644); },
                    op::write, [](auto&) { return fixed("pipe"); }, workspace_errc::not_regular_file},
        escape_case{"socket_path_read_missing", nothing, op::read, [](auto&) { return fixed("missing.txt"); },
                    workspace_errc::not_found},
        escape_case{"directory_read", [](const fs::path& ws, const fs::path&) { fs::create_directories(ws / "d"); },
                    op::read, [](auto&) { return fixed("d"); }, workspace_errc::not_regular_file},
        escape_case{"directory_overwrite",
                    [](const fs::path& ws, const fs::path&) { fs::create_directories(ws / "d" / "x"); }, op::write,
                    [](auto&) { return fixed("d"); }, workspace_errc::not_regular_file}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(sandbox_fixture, a_device_file_is_never_read_or_replaced)
{
    if (::mknod((ws_root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
        GTEST_SKIP() << "mknod needs CAP_MKNOD (run the suite as root to cover device files)";
    auto ws = open_ws();
    auto r = ws.read_file("null");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(workspace_errc::not_regular_file));
    EXPECT_NE(r.error().message.find("device"), std::string::npos) << r.error().message;
    auto w = ws.write_file("null", "x");
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, make_error_code(workspace_errc::not_regular_file));
    struct stat st{};
    ASSERT_EQ(::lstat((ws_root / "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(sandbox_fixture, a_final_link_is_replaced_not_written_through)
{
    fs::create_symlink("../sentinel/victim.txt", ws_root / "f");
    auto ws = open_ws();
    auto r = ws.write_file("f", "new\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(fs::is_symlink(ws_root / "f"));
    EXPECT_EQ(read_text(ws_root / "f"), "new\n");
    expect_sentinel_unchanged();
}

TEST_F(sandbox_fixture, a_hard_link_to_an_outside_file_keeps_the_outside_content)
{
    fs::create_hard_link(sentinel / "victim.txt", ws_root / "hard.txt");
    const auto before = snapshot(sentinel);
    auto ws = open_ws();
    ASSERT_TRUE(ws.write_file("hard.txt", "new\n"));
    EXPECT_EQ(read_text(ws_root / "hard.txt"), "new\n");
    EXPECT_EQ(read_text(sentinel / "victim.txt"), "precious\n");
    EXPECT_EQ(snapshot(sentinel), before);
}

TEST_F(sandbox_fixture, links_that_stay_inside_are_followed)
{
    fs::create_directories(ws_root / "real" / "sub");
    fs::create_symlink("real", ws_root / "alias");
    fs::create_symlink("../real/sub", ws_root / "real" / "up_and_over");
    auto ws = open_ws();
    ASSERT_TRUE(ws.write_file("alias/x.txt", "via alias\n"));
    EXPECT_EQ(read_text(ws_root / "real" / "x.txt"), "via alias\n");
    auto r = ws.read_file("alias/x.txt");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->data, "via alias\n");
    auto d = ws.directory_path("real/up_and_over");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(*d, ws.root() / "real" / "sub");
    expect_sentinel_unchanged();
}

TEST_F(sandbox_fixture, the_size_cap_refuses_a_large_file_and_writes_nothing)
{
    workspace_limits limits;
    limits.max_file_bytes = 100;
    auto ws = open_ws(limits);
    auto r = ws.write_file("big/file.bin", std::string(101, 'x'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(workspace_errc::file_too_large));
    EXPECT_NE(r.error().message.find("101 bytes"), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(ws_root / "big"));
    EXPECT_TRUE(ws.write_file("ok.bin", std::string(100, 'x')));
}

TEST_F(sandbox_fixture, the_phase_quota_caps_bytes_and_files_across_calls)
{
    workspace_limits limits;
    limits.max_phase_bytes = 10;
    limits.max_phase_files = 2;
    auto ws = open_ws(limits);
    write_quota quota(limits);
    ASSERT_TRUE(ws.write_file("a", "12345", &quota));
    auto over = ws.write_file("b", "123456", &quota);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, make_error_code(workspace_errc::quota_exceeded));
    EXPECT_FALSE(fs::exists(ws_root / "b"));
    ASSERT_TRUE(ws.write_file("b", "12345", &quota));
    auto third = ws.write_file("c", "", &quota);
    ASSERT_FALSE(third);
    EXPECT_NE(third.error().message.find("at most 2 files"), std::string::npos) << third.error().message;
    EXPECT_EQ(quota.bytes_used(), 10u);
    EXPECT_EQ(quota.files_used(), 2u);
}

TEST_F(sandbox_fixture, a_refused_set_writes_nothing_and_removes_the_directories_it_created)
{
    fs::create_symlink("../sentinel", ws_root / "out");
    write_text(ws_root / "keep.txt", "old\n");
    auto ws = open_ws();
    const auto before = snapshot(ws_root);
    // The first two are fine; the third escapes only when resolved (after staging began).
    auto r = ws.write_files({{"keep.txt", "new\n"}, {"fresh/dir/a.py", "x = 1\n"}, {"out/victim.txt", "pwned"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(workspace_errc::symlink_escape));
    EXPECT_EQ(r.error().path, "out/victim.txt");
    EXPECT_EQ(snapshot(ws_root), before) << "a refused set must leave the workspace as it was";
    expect_sentinel_unchanged();

    // A pure refusal late in the list is found before any I/O.
    auto r2 = ws.write_files({{"fresh/a.py", "x"}, {"../x", "y"}});
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, make_error_code(workspace_errc::parent_reference));
    EXPECT_EQ(snapshot(ws_root), before);
}

TEST_F(sandbox_fixture, writes_create_directories_replace_atomically_and_keep_permission_bits)
{
    write_text(ws_root / "run.sh", "#!/bin/sh\necho old\n");
    fs::permissions(ws_root / "run.sh", fs::perms::owner_all | fs::perms::group_read);
    auto ws = open_ws();
    auto r = ws.write_files({{"src/pkg/mod.py", "print('hi')\n"}, {"run.sh", "#!/bin/sh\necho new\n"},
                             {"src/pkg/mod.py", "print('last wins')\n"}});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].path, "src/pkg/mod.py");
    EXPECT_EQ((*r)[0].bytes, 19u);
    EXPECT_EQ((*r)[0].sha256, persistence::definition_hash("print('last wins')\n"));
    EXPECT_EQ(read_text(ws_root / "src/pkg/mod.py"), "print('last wins')\n");
    EXPECT_EQ(read_text(ws_root / "run.sh"), "#!/bin/sh\necho new\n");
    EXPECT_EQ(fs::status(ws_root / "run.sh").permissions(), fs::perms::owner_all | fs::perms::group_read);
    for (const auto& e : fs::recursive_directory_iterator(ws_root))
        EXPECT_EQ(e.path().filename().string().rfind(".ep-tmp-", 0), std::string::npos) << "temp left: " << e.path();
}

TEST_F(sandbox_fixture, reads_are_bounded_and_say_when_they_are_truncated)
{
    write_text(ws_root / "long.txt", std::string(1000, 'a'));
    workspace_limits limits;
    limits.max_read_bytes = 300;
    auto ws = open_ws(limits);
    auto r = ws.read_file("long.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->data.size(), 300u);
    EXPECT_EQ(r->size, 1000u);
    EXPECT_TRUE(r->truncated);
    auto all = ws.read_file("long.txt", 5000);
    ASSERT_TRUE(all);
    EXPECT_FALSE(all->truncated);
    EXPECT_EQ(all->data.size(), 1000u);
}

TEST_F(sandbox_fixture, listing_is_sorted_bounded_skips_git_and_does_not_follow_links)
{
    write_text(ws_root / "b.txt", "bb");
    write_text(ws_root / "a" / "x.py", "x");
    write_text(ws_root / ".git" / "HEAD", "ref: refs/heads/main\n");
    fs::create_symlink("../sentinel", ws_root / "out");
    auto ws = open_ws();
    auto l = ws.list_files();
    ASSERT_TRUE(l) << l.error().message;
    std::vector<std::string> seen;
    for (const auto& e : l->entries)
        seen.push_back(e.path + ":" + to_string(e.kind) + ":" + std::to_string(e.size));
    EXPECT_EQ(seen, (std::vector<std::string>{"a:directory:0", "a/x.py:file:1", "b.txt:file:2", "out:symlink:0"}));
    EXPECT_FALSE(l->truncated);

    auto sub = ws.list_files("a");
    ASSERT_TRUE(sub);
    ASSERT_EQ(sub->entries.size(), 1u);
    EXPECT_EQ(sub->entries[0].path, "a/x.py");

    workspace_limits small;
    small.max_list_entries = 2;
    auto ws2 = open_ws(small);
    auto bounded = ws2.list_files();
    ASSERT_TRUE(bounded);
    EXPECT_EQ(bounded->entries.size(), 2u);
    EXPECT_TRUE(bounded->truncated);
}

TEST_F(sandbox_fixture, the_root_may_be_reached_through_a_link_and_is_canonical)
{
    fs::create_symlink(ws_root, tmp.path() / "ws-alias");
    auto ws = workspace::open(tmp.path() / "ws-alias");
    ASSERT_TRUE(ws) << ws.error().message;
    EXPECT_EQ(ws->root(), fs::canonical(ws_root));
    auto d = ws->directory_path(".");
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, fs::canonical(ws_root));
}

TEST_F(sandbox_fixture, opening_a_file_as_the_workspace_fails_clearly)
{
    write_text(tmp.path() / "plain.txt", "x");
    auto ws = workspace::open(tmp.path() / "plain.txt", {}, false);
    ASSERT_FALSE(ws);
    EXPECT_EQ(ws.error().code, make_error_code(workspace_errc::not_a_directory));
    auto missing = workspace::open(tmp.path() / "missing", {}, false);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, make_error_code(workspace_errc::not_found));
    EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
}

}  // namespace
}  // namespace ep::engine::ws_test
