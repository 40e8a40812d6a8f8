#include "engine_test_util.hpp"

#include <ep/engine/error.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace ep::engine {
namespace {

TEST(loader, shipped_design_implement_review)
{
    diagnostics diag;
    auto spec = load_workflow_file(test::shipped_dir() / "design-implement-review.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    EXPECT_EQ(spec->name, "design-implement-review");
    EXPECT_EQ(spec->version, "1");
    ASSERT_EQ(spec->phases.size(), 3u);
    EXPECT_EQ(spec->phases[0].id, "design");
    EXPECT_EQ(spec->phases[1].id, "implement");
    EXPECT_EQ(spec->phases[2].id, "review");
    EXPECT_EQ(spec->phases[0].persona.value, "architect");
    EXPECT_EQ(spec->phases[1].needs.at(0).value, "design");
    EXPECT_EQ(spec->phases[1].context.phases.at(0).value, "design");
    EXPECT_EQ(spec->phases[2].output.format, output_format::json);
    ASSERT_TRUE(spec->phases[2].output.schema.has_value());
    EXPECT_EQ(spec->phases[2].output.schema->at("required").size(), 2u);
    // defaults apply to every phase
    EXPECT_EQ(spec->phases[1].timeout, std::chrono::minutes(5));
    ASSERT_TRUE(spec->phases[1].retry.has_value());
    EXPECT_EQ(spec->phases[1].retry->max_attempts, 3);
    EXPECT_EQ(spec->phases[1].retry->backoff.max, std::chrono::seconds(30));
    // inputs keep their order and defaults
    ASSERT_EQ(spec->inputs.size(), 3u);
    EXPECT_EQ(spec->inputs[0].name, "task");
    EXPECT_TRUE(spec->inputs[0].required);
    EXPECT_FALSE(spec->inputs[1].required);
    EXPECT_EQ(spec->inputs[1].default_value, nlohmann::json("C++20"));
    // locations are 1-based line:col of what was written
    EXPECT_EQ(spec->phases[0].where.line, 28);
    EXPECT_EQ(spec->phases[0].where.column, 3);
    EXPECT_EQ(spec->phases[0].persona.where.line, 29);
    EXPECT_EQ(spec->phases[0].persona.where.column, 14);
}

TEST(loader, every_shipped_yaml_validates)
{
    for (const char* name : {"design-implement-review.yaml", "sdlc.yaml"})
    {
        auto problems = test::validate_text([&] {
            std::ifstream in(test::shipped_dir() / name);
            return std::string(std::istreambuf_iterator<char>(in), {});
        }());
        EXPECT_TRUE(problems.empty()) << name << ": " << (problems.empty() ? "" : problems[0]);
    }
    for (const char* mix : {"A", "B", "C", "D", "E"})
        EXPECT_TRUE(test::validate_text("name: w\nphases:\n  a: {persona: reviewer, prompt: x}\n", mix).empty()) << mix;
}

TEST(loader, shipped_yaml_files_carry_the_schema_modeline)
{
    for (const auto& entry : std::filesystem::recursive_directory_iterator(test::shipped_dir()))
    {
        if (entry.path().extension() != ".yaml")
            continue;
        std::ifstream in(entry.path());
        std::string first;
        std::getline(in, first);
        EXPECT_EQ(first.rfind("# yaml-language-server: $schema=", 0), 0u) << entry.path();
        auto schema = first.substr(first.find('=') + 1);
        EXPECT_TRUE(std::filesystem::exists(entry.path().parent_path() / schema)) << entry.path() << " -> " << schema;
    }
}

TEST(loader, schemas_are_embedded_and_valid_json)
{
    for (const char* name : {"workflow", "personas", "capabilities", "mix", "events"})
    {
        auto text = embedded_schema(name);
        ASSERT_FALSE(text.empty()) << name;
        EXPECT_TRUE(nlohmann::json::accept(text)) << name;
    }
    EXPECT_TRUE(embedded_schema("nope").empty());
}

TEST(loader, scalars_follow_the_yaml_core_schema)
{
    diagnostics diag;
    auto spec = load_workflow_string(R"(name: w
version: "2"
inputs:
  n: {type: number, default: 1.5}
  flag: {type: boolean, default: true}
  s: {type: string, default: "true"}
phases:
  a:
    persona: architect
    prompt: 'quoted {{ inputs.s }}'
    max_tokens: 100
    temperature: 0
    timeout: 90
)",
                                     "wf.yaml", diag);
    ASSERT_TRUE(spec.has_value()) << diag.str();
    EXPECT_EQ(spec->version, "2");
    EXPECT_EQ(spec->inputs[0].default_value, nlohmann::json(1.5));
    EXPECT_EQ(spec->inputs[1].default_value, nlohmann::json(true));
    EXPECT_EQ(spec->inputs[2].default_value, nlohmann::json("true"));
    EXPECT_EQ(spec->phases[0].max_tokens, 100);
    EXPECT_EQ(spec->phases[0].temperature, 0.0);
    EXPECT_EQ(spec->phases[0].timeout, std::chrono::seconds(90));
    EXPECT_EQ(spec->phases[0].prompt_template.refs().at(0).name, "s");
}

TEST(loader, missing_file_is_an_io_error)
{
    diagnostics diag;
    auto spec = load_workflow_file("/nonexistent/wf.yaml", diag);
    ASSERT_FALSE(spec.has_value());
    EXPECT_EQ(spec.error(), make_error_code(workflow_errc::io_error));
    EXPECT_EQ(diag.str(), "/nonexistent/wf.yaml: no such file\n");
}

}  // namespace
}  // namespace ep::engine
