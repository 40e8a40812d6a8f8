#include "engine_test_util.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/inputs.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace ep::engine {
namespace {

workflow_spec spec_with_inputs()
{
    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
inputs:
  task: {type: string, description: what}
  count: {type: number, default: 3}
  strict: {type: boolean, default: false}
  spec: {type: file, required: false}
  note: {type: string, required: false}
phases:
  a: {persona: architect, prompt: "{{ inputs.task }}"}
)",
                                     "wf.yaml", diag);
    EXPECT_TRUE(spec.has_value()) << diag.str();
    return spec ? std::move(*spec) : workflow_spec{};
}

TEST(inputs, binds_typed_values_and_defaults)
{
    auto spec = spec_with_inputs();
    std::vector<std::string> errors;
    auto bound = bind_inputs(spec, {"task=build a=b", "strict=true"}, {}, errors);
    ASSERT_TRUE(bound.has_value()) << (errors.empty() ? "" : errors[0]);
    EXPECT_EQ(bound->at("task").text, "build a=b");
    EXPECT_TRUE(bound->at("strict").boolean);
    EXPECT_EQ(bound->at("count").number, 3);
    EXPECT_EQ(bound->at("count").text, "3");
    EXPECT_EQ(bound->at("note").text, "");
    EXPECT_EQ(input_texts(*bound).at("strict"), "true");
}

TEST(inputs, reads_files)
{
    auto path = std::filesystem::temp_directory_path() / "ep_inputs_test.txt";
    std::ofstream(path) << "file content\n";
    auto spec = spec_with_inputs();
    std::vector<std::string> errors;
    auto bound = bind_inputs(spec, {"spec=" + path.string()}, {"task=" + path.string()}, errors);
    ASSERT_TRUE(bound.has_value()) << (errors.empty() ? "" : errors[0]);
    EXPECT_EQ(bound->at("task").text, "file content\n");
    EXPECT_EQ(bound->at("spec").text, "file content\n");
    EXPECT_EQ(bound->at("spec").path, path);
    std::filesystem::remove(path);
}

TEST(inputs, reports_every_problem)
{
    auto spec = spec_with_inputs();
    std::vector<std::string> errors;
    auto bound = bind_inputs(spec, {"tsak=x", "count=many", "strict=maybe", "noequals", "note=a", "note=b"},
                             {"spec=/nonexistent/file"}, errors);
    ASSERT_FALSE(bound.has_value());
    EXPECT_EQ(bound.error(), make_error_code(workflow_errc::invalid_input));
    std::vector<std::string> expected = {
        "--input tsak: the workflow has no input 'tsak' (did you mean 'task'?)",
        "--input count: input 'count' must be a number, got 'many'",
        "--input strict: input 'strict' must be true or false, got 'maybe'",
        "--input 'noequals': expected KEY=VALUE",
        "--input note: input 'note' is given more than once",
        "--input-file spec: cannot read '/nonexistent/file': No such file or directory",
        "missing required input 'task' (give it with --input task=VALUE)",
    };
    EXPECT_EQ(errors, expected);
}

}  // namespace
}  // namespace ep::engine
