// Extracting fenced files from answers (pure) and writing them (all or nothing).
#include "workspace_test_util.hpp"

#include <ep/engine/workspace/fenced_files.hpp>

namespace ep::engine::ws_test {
namespace {

struct label_case
{
    const char* line;
    const char* path;  // "" = not a path label
};

class label_line : public ::testing::TestWithParam<label_case>
{
};

TEST_P(label_line, names_its_path_or_none)
{
    EXPECT_EQ(path_from_label_line(GetParam().line), GetParam().path) << GetParam().line;
}

INSTANTIATE_TEST_SUITE_P(
    forms, label_line,
    ::testing::Values(label_case{"`src/lru.py`", "src/lru.py"}, label_case{"**src/lru.py**", "src/lru.py"},
                      label_case{"**`src/lru.py`**", "src/lru.py"}, label_case{"`src/lru.py`:", "src/lru.py"},
                      label_case{"src/lru.py:", "src/lru.py"}, label_case{"src/lru.py", "src/lru.py"},
                      label_case{"File: src/lru.py", "src/lru.py"}, label_case{"file: `lru.py`", "lru.py"},
                      label_case{"**File:** `src/lru.py`", "src/lru.py"}, label_case{"Path: a/b.c", "a/b.c"},
                      label_case{"Filename: setup.cfg", "setup.cfg"}, label_case{"# src/lru.py", "src/lru.py"},
                      label_case{"### File: src/lru.py", "src/lru.py"}, label_case{"- `tests/t.py`", "tests/t.py"},
                      label_case{"1. `tests/t.py`", "tests/t.py"}, label_case{"`Makefile`", "Makefile"},
                      label_case{"File: Makefile", "Makefile"}, label_case{"Create `src/lru.py`:", "src/lru.py"},
                      label_case{"  __src/x.py__  ", "src/x.py"}, label_case{"\"src/x.py\"", "src/x.py"},
                      // not paths
                      label_case{"Makefile", ""}, label_case{"**Note:**", ""}, label_case{"Usage:", ""},
                      label_case{"e.g.", ""}, label_case{"Here is the code:", ""},
                      label_case{"Implementation for: an LRU cache", ""}, label_case{"# Design", ""},
                      label_case{"Run `python3 main.py`:", ""}, label_case{"see https://example.com/x.py", ""},
                      label_case{"", ""}, label_case{"dir/", ""}));

std::vector<fenced_file> extract_ok(std::string_view answer)
{
    auto r = extract_fenced_files(answer);
    if (!r)
        ADD_FAILURE() << r.error().message;
    return r ? *r : std::vector<fenced_file>{};
}

TEST(fenced_files, path_on_the_line_before_in_the_shipped_convention)
{
    auto files = extract_ok("Here is the cache.\n\n`src/lru.py`\n```python\nclass LRU:\n    pass\n```\n\n"
                            "**tests/test_lru.py**\n\n```python\nimport unittest\n```\nDone.\n");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, "src/lru.py");
    EXPECT_EQ(files[0].content, "class LRU:\n    pass\n");
    EXPECT_EQ(files[0].language, "python");
    EXPECT_EQ(files[0].line, 4);
    EXPECT_EQ(files[1].path, "tests/test_lru.py");
    EXPECT_EQ(files[1].content, "import unittest\n");
    EXPECT_EQ(files[1].line, 11);
}

TEST(fenced_files, path_in_the_info_string_wins_over_the_line_before)
{
    auto files = extract_ok("`ignored.py`\n```python src/a.py\nA = 1\n```\n```src/b.py\nB = 2\n```\n"
                            "```python title=\"src/c.py\"\nC = 3\n```\n```js file=web/d.js\nd()\n```\n");
    ASSERT_EQ(files.size(), 4u);
    EXPECT_EQ(files[0].path, "src/a.py");
    EXPECT_EQ(files[1].path, "src/b.py");
    EXPECT_EQ(files[1].language, "");
    EXPECT_EQ(files[2].path, "src/c.py");
    EXPECT_EQ(files[3].path, "web/d.js");
    EXPECT_EQ(files[3].language, "js");
}

TEST(fenced_files, blocks_without_a_path_are_ignored)
{
    auto files = extract_ok("Usage:\n```\nep-run x.yaml\n```\nSome prose.\n```python\nprint(1)\n```\n");
    EXPECT_TRUE(files.empty());
}

TEST(fenced_files, the_emulator_code_writer_answer_of_today_has_no_path)
{
    // providers/emulator/src/answer.cpp code_text(): "Implementation for: TOPIC\n\n```LANG\n…```\n"
    auto files = extract_ok("Implementation for: an LRU cache\n\n```python\ndef solve(items):\n"
                            "    return sorted(set(items))\n```\n");
    EXPECT_TRUE(files.empty());
}

TEST(fenced_files, tildes_longer_fences_and_nested_backticks)
{
    auto files = extract_ok("`README.md`\n````markdown\n# Title\n```sh\nmake\n```\n````\n"
                            "`doc.md`\n~~~\nuse ``` inside\n```\n~~~~\n");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].content, "# Title\n```sh\nmake\n```\n");
    EXPECT_EQ(files[1].content, "use ``` inside\n```\n");
}

TEST(fenced_files, a_closing_fence_has_no_info_string_so_an_inner_opening_line_is_content)
{
    auto files = extract_ok("`a.md`\n```\nline\n```python\nstill content\n```\n");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].content, "line\n```python\nstill content\n");
}

TEST(fenced_files, crlf_line_endings_become_lf)
{
    auto files = extract_ok("`w.py`\r\n```python\r\na = 1\r\nb = 2\r\n```\r\n");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].content, "a = 1\nb = 2\n");
}

TEST(fenced_files, an_indented_fence_strips_its_indentation_from_the_content)
{
    auto files = extract_ok("`x.py`\n  ```python\n  def f():\n      return 1\n ```\n");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].content, "def f():\n    return 1\n");
}

TEST(fenced_files, an_empty_block_is_an_empty_file)
{
    auto files = extract_ok("`pkg/__init__.py`\n```python\n```\n");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].content, "");
}

TEST(fenced_files, inline_triple_backticks_are_not_a_fence)
{
    auto files = extract_ok("`a.py`\n```print(1)```\n`b.py`\n```python\nB\n```\n");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].path, "b.py");
}

TEST(fenced_files, a_duplicate_path_keeps_the_last_content_at_the_first_position)
{
    auto files = extract_ok("`a.py`\n```\nv1\n```\n`b.py`\n```\nb\n```\n`a.py`\n```\nv2\n```\n");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, "a.py");
    EXPECT_EQ(files[0].content, "v2\n");
    EXPECT_EQ(files[0].line, 10);
    EXPECT_EQ(files[1].path, "b.py");
}

TEST(fenced_files, an_unterminated_block_with_a_path_is_an_error_with_its_line)
{
    auto r = extract_fenced_files("intro\n`src/lru.py`\n```python\nclass LRU:\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(workspace_errc::unterminated_fence));
    EXPECT_EQ(r.error().path, "src/lru.py");
    EXPECT_NE(r.error().message.find("line 3"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("never closed"), std::string::npos);
}

TEST(fenced_files, an_unterminated_block_without_a_path_is_only_prose)
{
    auto files = extract_ok("`a.py`\n```\nA\n```\ntext\n```\nunclosed\n");
    ASSERT_EQ(files.size(), 1u);
}

TEST(fenced_files, the_label_must_be_outside_the_previous_block)
{
    // The last line inside block 1 looks like a path; it must not name block 2.
    auto files = extract_ok("```\nsrc/inner.py\n```\n```python\nx\n```\n");
    EXPECT_TRUE(files.empty());
}

class fenced_write : public sandbox_fixture
{
};

TEST_F(fenced_write, writes_every_file_and_reports_sizes_hashes_and_lines)
{
    auto ws = open_ws();
    auto files = extract_ok("`src/a.py`\n```python\nA = 1\n```\n`tests/test_a.py`\n```python\nimport a\n```\n");
    auto json = write_fenced_files(ws, files);
    ASSERT_TRUE(json) << json.error().message;
    EXPECT_EQ((*json)["count"], 2);
    EXPECT_EQ((*json)["bytes"], 6 + 9);
    EXPECT_EQ((*json)["files"][0]["path"], "src/a.py");
    EXPECT_EQ((*json)["files"][0]["bytes"], 6);
    EXPECT_EQ((*json)["files"][0]["sha256"], persistence::definition_hash("A = 1\n"));
    EXPECT_EQ((*json)["files"][0]["line"], 2);
    EXPECT_EQ((*json)["files"][1]["line"], 6);
    EXPECT_EQ(read_text(ws_root / "tests/test_a.py"), "import a\n");
}

TEST_F(fenced_write, one_refused_path_refuses_the_whole_answer)
{
    auto ws = open_ws();
    auto files = extract_ok("`src/ok.py`\n```\nok\n```\n`../sentinel/victim.txt`\n```\npwned\n```\n");
    ASSERT_EQ(files.size(), 2u);
    auto json = write_fenced_files(ws, files);
    ASSERT_FALSE(json);
    EXPECT_EQ(json.error().code, make_error_code(workspace_errc::parent_reference));
    EXPECT_EQ(json.error().path, "../sentinel/victim.txt");
    EXPECT_FALSE(fs::exists(ws_root / "src"));
    expect_sentinel_unchanged();
}

TEST_F(fenced_write, the_phase_quota_is_charged_for_the_whole_set)
{
    workspace_limits limits;
    limits.max_phase_files = 1;
    auto ws = open_ws(limits);
    write_quota quota(limits);
    auto files = extract_ok("`a.py`\n```\na\n```\n`b.py`\n```\nb\n```\n");
    auto json = write_fenced_files(ws, files, &quota);
    ASSERT_FALSE(json);
    EXPECT_EQ(json.error().code, make_error_code(workspace_errc::quota_exceeded));
    EXPECT_EQ(json.error().path, "b.py");
    EXPECT_FALSE(fs::exists(ws_root / "a.py"));
    EXPECT_EQ(quota.files_used(), 0u);
}

}  // namespace
}  // namespace ep::engine::ws_test
