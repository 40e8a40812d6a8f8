// The engine tools: definitions in the providers' shape, confined execution, errors returned to
// the model (never thrown), bounded results.
#include "workspace_test_util.hpp"

#include "io_fixture.hpp"

#include <ep/engine/workspace/tools.hpp>

namespace ep::engine::ws_test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(engine_tools, definitions_are_json_schema_objects_in_the_requested_order)
{
    auto specs = engine_tool_specs({"run_tests", "read_file", "write_file", "list_files"});
    ASSERT_TRUE(specs) << specs.error().message;
    ASSERT_EQ(specs->size(), 4u);
    EXPECT_EQ((*specs)[0].name, "run_tests");
    EXPECT_EQ((*specs)[1].name, "read_file");
    for (const auto& s : *specs)
    {
        EXPECT_FALSE(s.description.empty()) << s.name;
        EXPECT_EQ(s.parameters["type"], "object") << s.name;
        EXPECT_TRUE(s.parameters["properties"].is_object()) << s.name;
        EXPECT_EQ(s.parameters["additionalProperties"], false) << s.name;
    }
    EXPECT_EQ((*specs)[2].parameters["required"], json({"path", "content"}));
    EXPECT_EQ((*specs)[1].parameters["properties"]["path"]["type"], "string");
}

TEST(engine_tools, an_unknown_tool_name_is_refused_when_the_list_is_built)
{
    auto specs = engine_tool_specs({"read_file", "delete_everything"});
    ASSERT_FALSE(specs);
    EXPECT_EQ(specs.error().code, make_error_code(workspace_errc::unknown_tool));
    EXPECT_NE(specs.error().message.find("delete_everything"), std::string::npos);
    EXPECT_TRUE(is_engine_tool("list_files"));
    EXPECT_FALSE(is_engine_tool("bash"));
}

class tools_fixture : public sandbox_fixture
{
protected:
    static providers::tool_call call(std::string name, std::string args)
    {
        return {"call_1", std::move(name), std::move(args)};
    }
};

struct bad_call
{
    const char* name;
    const char* tool;
    const char* arguments;
    const char* says;
};

class bad_tool_call : public sandbox_fixture, public ::testing::WithParamInterface<bad_call>
{
};

TEST_P(bad_tool_call, comes_back_as_an_error_result_and_touches_nothing_outside)
{
    const auto& c = GetParam();
    fs::create_symlink("../sentinel", ws_root / "out");
    auto ws = open_ws();
    tool_context ctx{ws};
    providers::tool_result r;
    ASSERT_NO_THROW(r = execute_file_tool({"id-7", c.tool, c.arguments}, ctx));
    EXPECT_TRUE(r.is_error) << r.content;
    EXPECT_EQ(r.tool_call_id, "id-7");
    EXPECT_EQ(r.name, c.tool);
    EXPECT_EQ(r.content.rfind("error: ", 0), 0u) << r.content;
    EXPECT_NE(r.content.find(c.says), std::string::npos) << r.content;
    EXPECT_NO_THROW((void)json(r.content).dump());
    expect_sentinel_unchanged();
}

INSTANTIATE_TEST_SUITE_P(
    every_kind, bad_tool_call,
    ::testing::Values(
        bad_call{"not_json", "read_file", "{path: x", "must be a JSON object"},
        bad_call{"an_array", "write_file", "[1, 2]", "must be a JSON object"},
        bad_call{"missing_path", "read_file", "{}", "invalid arguments for read_file"},
        bad_call{"wrong_type", "write_file", R"({"path": 3, "content": "x"})", "invalid arguments for write_file"},
        bad_call{"extra_key", "list_files", R"({"path": ".", "recursive": true})", "invalid arguments"},
        bad_call{"missing_content", "write_file", R"({"path": "a.txt"})", "invalid arguments"},
        bad_call{"unknown_tool", "rm_rf", "{}", "no tool named `rm_rf`"},
        bad_call{"absolute_read", "read_file", R"({"path": "/etc/passwd"})", "absolute"},
        bad_call{"dotdot_write", "write_file", R"({"path": "../sentinel/victim.txt", "content": "pwned"})", "`..`"},
        bad_call{"symlink_write", "write_file", R"({"path": "out/victim.txt", "content": "pwned"})",
                 "symbolic link"},
        bad_call{"symlink_list", "list_files", R"({"path": "out"})", "outside the workspace"},
        bad_call{"git_write", "write_file", R"({"path": ".git/config", "content": "x"})", "reserved"},
        bad_call{"missing_file", "read_file", R"({"path": "nope.txt"})", "does not exist"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(tools_fixture, write_read_and_list_round_trip_inside_the_workspace)
{
    auto ws = open_ws();
    write_quota quota(ws.limits());
    tool_context ctx{ws, &quota};
    auto w = execute_file_tool(call("write_file", R"({"path": "src/app.py", "content": "print('hi')\n"})"), ctx);
    ASSERT_FALSE(w.is_error) << w.content;
    const auto written = json::parse(w.content);
    EXPECT_EQ(written["path"], "src/app.py");
    EXPECT_EQ(written["bytes"], 12);
    EXPECT_EQ(written["sha256"], persistence::definition_hash("print('hi')\n"));
    EXPECT_EQ(quota.files_used(), 1u);

    auto r = execute_file_tool(call("read_file", R"({"path": "src/app.py"})"), ctx);
    ASSERT_FALSE(r.is_error) << r.content;
    EXPECT_EQ(r.content, "print('hi')\n");

    auto l = execute_file_tool(call("list_files", ""), ctx);  // empty arguments mean {}
    ASSERT_FALSE(l.is_error) << l.content;
    const auto listing = json::parse(l.content);
    EXPECT_EQ(listing["entries"], json::parse(R"([{"path": "src", "type": "directory"},
                                                  {"path": "src/app.py", "type": "file", "size": 12}])"));
    EXPECT_EQ(listing["truncated"], false);
}

TEST_F(tools_fixture, results_are_bounded)
{
    write_text(ws_root / "big.txt", std::string(10000, 'x'));
    for (int i = 0; i < 30; ++i)
        write_text(ws_root / ("f" + std::to_string(i)), "");
    auto ws = open_ws();
    tool_context ctx{ws, nullptr, {}, tool_limits{1000, 10}};
    auto r = execute_file_tool(call("read_file", R"({"path": "big.txt"})"), ctx);
    ASSERT_FALSE(r.is_error);
    EXPECT_EQ(r.content.substr(0, 1000), std::string(1000, 'x'));
    EXPECT_NE(r.content.find("[truncated: showing the first 1000 of 10000 bytes]"), std::string::npos);
    auto l = execute_file_tool(call("list_files", "{}"), ctx);
    ASSERT_FALSE(l.is_error) << l.content;
    const auto listing = json::parse(l.content);
    EXPECT_EQ(listing["entries"].size(), 10u);
    EXPECT_EQ(listing["truncated"], true);
}

TEST_F(tools_fixture, a_binary_file_is_reported_not_returned)
{
    write_text(ws_root / "blob.bin", std::string("\x89PNG\r\n\x1a\n\xff\xfe", 10));
    auto ws = open_ws();
    tool_context ctx{ws};
    auto r = execute_file_tool(call("read_file", R"({"path": "blob.bin"})"), ctx);
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.content.find("not a UTF-8 text file"), std::string::npos) << r.content;
}

TEST_F(tools_fixture, write_file_respects_the_phase_quota)
{
    workspace_limits limits;
    limits.max_phase_files = 1;
    auto ws = open_ws(limits);
    write_quota quota(limits);
    tool_context ctx{ws, &quota};
    EXPECT_FALSE(execute_file_tool(call("write_file", R"({"path": "a", "content": "1"})"), ctx).is_error);
    auto second = execute_file_tool(call("write_file", R"({"path": "b", "content": "2"})"), ctx);
    EXPECT_TRUE(second.is_error);
    EXPECT_NE(second.content.find("at most 1 files"), std::string::npos) << second.content;
    EXPECT_FALSE(fs::exists(ws_root / "b"));
}

class run_tests_tool : public test::io_fixture
{
protected:
    temp_dir tmp;
};

TEST_F(run_tests_tool, runs_the_declared_command_and_reports_its_outcome_with_the_output_tail)
{
    auto ws = workspace::open(tmp.path());
    ASSERT_TRUE(ws);
    int calls = 0;
    tool_context ctx{*ws};
    ctx.limits.max_result_bytes = 400;
    ctx.run_tests = [&]() -> boost::asio::awaitable<ws_result<command_result>> {
        ++calls;
        command_result r;
        r.exit_code = 1;
        r.duration_ms = 42;
        r.output = std::string(2000, '.') + "\nFAILED (failures=1)\n";
        co_return r;
    };
    auto r = run(execute_tool({"c1", "run_tests", "{}"}, ctx));
    EXPECT_EQ(calls, 1);
    ASSERT_FALSE(r.is_error) << r.content;
    EXPECT_LE(r.content.size(), 400u);
    const auto j = json::parse(r.content);
    EXPECT_EQ(j["exit_code"], 1);
    EXPECT_EQ(j["passed"], false);
    EXPECT_EQ(j["duration_ms"], 42);
    const std::string output = j["output"];
    EXPECT_NE(output.find("FAILED (failures=1)\n"), std::string::npos);
    EXPECT_NE(output.find("bytes of earlier output dropped"), std::string::npos);
}

TEST_F(run_tests_tool, without_a_test_command_or_with_bad_arguments_it_answers_an_error)
{
    auto ws = workspace::open(tmp.path());
    ASSERT_TRUE(ws);
    tool_context ctx{*ws};
    auto none = run(execute_tool({"c1", "run_tests", "{}"}, ctx));
    EXPECT_TRUE(none.is_error);
    EXPECT_NE(none.content.find("no test command"), std::string::npos);
    ctx.run_tests = []() -> boost::asio::awaitable<ws_result<command_result>> {
        co_return make_workspace_error(command_errc::program_not_found, {}, "`pytest` was not found on PATH");
    };
    auto bad = run(execute_tool({"c2", "run_tests", R"({"verbose": true})"}, ctx));
    EXPECT_TRUE(bad.is_error);
    auto missing = run(execute_tool({"c3", "run_tests", ""}, ctx));
    EXPECT_TRUE(missing.is_error);
    EXPECT_NE(missing.content.find("pytest"), std::string::npos) << missing.content;
    auto file_tool = run(execute_tool({"c4", "list_files", "{}"}, ctx));
    EXPECT_FALSE(file_tool.is_error) << file_tool.content;
}

}  // namespace
}  // namespace ep::engine::ws_test
