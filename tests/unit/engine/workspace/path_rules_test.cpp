// The pure path rules, table-driven: every refusal with its own code and reason.
#include <ep/engine/workspace/path_rules.hpp>

#include <gtest/gtest.h>

namespace ep::engine {
namespace {

struct refused_case
{
    const char* name;
    std::string text;
    workspace_errc code;
    const char* reason;  // a fragment of the message
};

class refused_path : public ::testing::TestWithParam<refused_case>
{
};

TEST_P(refused_path, is_refused_with_its_reason_and_the_path_quoted)
{
    const auto& c = GetParam();
    auto r = check_relative_path(c.text);
    ASSERT_FALSE(r) << c.text << " was accepted as " << r->str();
    EXPECT_EQ(r.error().code, make_error_code(c.code)) << r.error().message;
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().path, printable_path(c.text));
}

INSTANTIATE_TEST_SUITE_P(
    every_rule, refused_path,
    ::testing::Values(
        refused_case{"empty", "", workspace_errc::invalid_path, "names no file"},
        refused_case{"dot", ".", workspace_errc::invalid_path, "names no file"},
        refused_case{"dot_slash", ".//./", workspace_errc::invalid_path, "names no file"},
        refused_case{"absolute", "/etc/passwd", workspace_errc::absolute_path, "absolute"},
        refused_case{"double_slash_absolute", "//etc/passwd", workspace_errc::absolute_path, "absolute"},
        refused_case{"drive_letter", "C:/Windows/x", workspace_errc::absolute_path, "drive letter"},
        refused_case{"parent", "../x", workspace_errc::parent_reference, "`..`"},
        refused_case{"parent_only", "..", workspace_errc::parent_reference, "`..`"},
        refused_case{"parent_in_middle", "src/../../x", workspace_errc::parent_reference, "`..`"},
        refused_case{"parent_that_stays_inside", "src/../x", workspace_errc::parent_reference, "`..`"},
        refused_case{"parent_at_end", "src/..", workspace_errc::parent_reference, "`..`"},
        refused_case{"nul", std::string("a\0b", 3), workspace_errc::invalid_path, "NUL"},
        refused_case{"newline", "a\nb", workspace_errc::invalid_path, "control character"},
        refused_case{"escape_char", "a\x1b[31mb", workspace_errc::invalid_path, "control character"},
        refused_case{"del", "a\x7f", workspace_errc::invalid_path, "control character"},
        refused_case{"backslash", "..\\outside\\x", workspace_errc::invalid_path, "backslash"},
        refused_case{"home", "~/.bashrc", workspace_errc::invalid_path, "home directory"},
        refused_case{"home_user", "~root/x", workspace_errc::invalid_path, "home directory"},
        refused_case{"git_dir", ".git/hooks/pre-commit", workspace_errc::reserved_path, "`.git` is reserved"},
        refused_case{"git_dir_deep", "sub/.git/config", workspace_errc::reserved_path, "reserved"},
        refused_case{"git_dir_case", ".GIT/config", workspace_errc::reserved_path, "reserved"},
        refused_case{"too_long", std::string(1100, 'a'), workspace_errc::invalid_path, "longer than 1024"},
        refused_case{"component_too_long", "d/" + std::string(256, 'b'), workspace_errc::invalid_path,
                     "component is longer than 255"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(path_rules, normalises_empty_and_dot_components)
{
    auto r = check_relative_path("./src//lru/./cache.py");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->str(), "src/lru/cache.py");
    ASSERT_EQ(r->components.size(), 3u);
}

TEST(path_rules, accepts_ordinary_names_including_dots_inside_and_unicode)
{
    for (const char* ok : {"a", "a.b.c", "..hidden", "x..y", ".gitignore", "src/.github/ci.yml", "tests/тест.py",
                           "a b/c d.txt", "dir.git/x"})
    {
        auto r = check_relative_path(ok);
        EXPECT_TRUE(r) << ok << ": " << (r ? "" : r.error().message);
    }
}

TEST(path_rules, the_root_is_accepted_only_when_allowed)
{
    path_rules rules;
    rules.allow_root = true;
    for (const char* root : {"", ".", "./", ".//."})
    {
        auto r = check_relative_path(root, rules);
        ASSERT_TRUE(r) << root;
        EXPECT_TRUE(r->is_root());
        EXPECT_EQ(r->str(), ".");
    }
    EXPECT_FALSE(check_relative_path("..", rules));
}

TEST(path_rules, reserved_names_and_limits_are_configurable)
{
    path_rules rules;
    rules.reserved = {"node_modules"};
    rules.max_path_bytes = 20;
    EXPECT_TRUE(check_relative_path(".git/x", rules));
    EXPECT_EQ(check_relative_path("node_modules", rules).error().code, make_error_code(workspace_errc::reserved_path));
    EXPECT_EQ(check_relative_path("abcdefghijklmnopqrstu", rules).error().code,
              make_error_code(workspace_errc::invalid_path));
}

TEST(path_rules, printable_path_escapes_control_bytes_and_invalid_utf8_but_keeps_utf8)
{
    EXPECT_EQ(printable_path(std::string("a\0b\n", 4)), "a\\x00b\\x0a");
    EXPECT_EQ(printable_path("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(printable_path("bad\xff"), "bad\\xff");
    EXPECT_EQ(printable_path("cut\xc3"), "cut\\xc3");
}

}  // namespace
}  // namespace ep::engine
