#include <ep/engine/error.hpp>
#include <ep/engine/template.hpp>

#include <gtest/gtest.h>

namespace ep::engine {
namespace {

using kind = template_ref::kind_type;

parsed_template parse_ok(std::string_view text)
{
    std::vector<template_error> errors;
    auto tpl = parse_template(text, errors);
    EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].message);
    return tpl;
}

TEST(template_parse, lists_references_with_offsets)
{
    auto tpl = parse_ok("Task: {{ inputs.task }}\n{{phases.design.output}} and {{ phases.req.json.a.0.b }}");
    auto refs = tpl.refs();
    ASSERT_EQ(refs.size(), 3u);
    EXPECT_EQ(refs[0].kind, kind::input);
    EXPECT_EQ(refs[0].name, "task");
    EXPECT_EQ(refs[0].offset, 6u);
    EXPECT_EQ(refs[0].text, "{{ inputs.task }}");
    EXPECT_EQ(refs[1].kind, kind::phase_output);
    EXPECT_EQ(refs[1].name, "design");
    EXPECT_EQ(refs[2].kind, kind::phase_json);
    EXPECT_EQ(refs[2].name, "req");
    EXPECT_EQ(refs[2].path, (std::vector<std::string>{"a", "0", "b"}));
}

TEST(template_parse, plain_text_has_no_references)
{
    auto tpl = parse_ok("just text, with } and { braces");
    EXPECT_TRUE(tpl.refs().empty());
    ASSERT_EQ(tpl.pieces.size(), 1u);
    EXPECT_EQ(tpl.pieces[0].literal, "just text, with } and { braces");
}

struct bad_template
{
    const char* text;
    std::size_t offset;
    const char* message;
};

class template_errors : public ::testing::TestWithParam<bad_template>
{
};

TEST_P(template_errors, are_reported_with_offset)
{
    std::vector<template_error> errors;
    parse_template(GetParam().text, errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].offset, GetParam().offset);
    EXPECT_EQ(errors[0].message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    all, template_errors,
    ::testing::Values(
        bad_template{"a {{ inputs.x", 2, "unterminated '{{' in template (write \\{{ for a literal '{{')"},
        bad_template{"{{ }}", 0, "empty template expression '{{ }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"},
        bad_template{"x {{ env.HOME }}", 2, "unknown template root 'env' in '{{ env.HOME }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"},
        bad_template{"{{ inputs }}", 0, "invalid template expression '{{ inputs }}' (expected inputs.NAME)"},
        bad_template{"{{ phases.a }}", 0, "invalid template expression '{{ phases.a }}' (expected phases.ID.output, phases.ID.json.PATH or phases.ID.outputs)"},
        bad_template{"{{ phases.a.text }}", 0, "invalid template expression '{{ phases.a.text }}' (expected phases.ID.output, phases.ID.json.PATH or phases.ID.outputs)"},
        bad_template{"{{ inputs.a b }}", 0, "invalid template expression '{{ inputs.a b }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"},
        bad_template{"{{ inputs..a }}", 0, "invalid template expression '{{ inputs..a }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"}));

TEST(template_parse, all_errors_are_reported)
{
    std::vector<template_error> errors;
    auto tpl = parse_template("{{ bad.x }} ok {{ inputs.a }} {{ }}", errors);
    EXPECT_EQ(errors.size(), 2u);
    EXPECT_EQ(tpl.refs().size(), 1u);
}

TEST(template_render, substitutes_inputs_outputs_and_json)
{
    auto tpl = parse_ok("[{{ inputs.task }}] {{ phases.d.output }} {{ phases.r.json.items.1 }} {{ phases.r.json.n }} "
                        "{{ phases.r.json.obj }}");
    render_context ctx;
    ctx.inputs["task"] = "build it";
    ctx.phases["d"] = {"the design", std::nullopt};
    ctx.phases["r"] = {"{}", nlohmann::json{{"items", {"a", "b"}}, {"n", 3}, {"obj", {{"k", true}}}}};
    auto out = render_template(tpl, ctx);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "[build it] the design b 3 {\"k\":true}");
}

TEST(template_render, inserts_values_verbatim_without_reevaluating)
{
    auto tpl = parse_ok("<{{ phases.a.output }}>");
    render_context ctx;
    ctx.phases["a"] = {"{{ inputs.secret }} \\{{ x", std::nullopt};
    auto out = render_template(tpl, ctx);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "<{{ inputs.secret }} \\{{ x>");
}

TEST(template_render, escaped_braces_are_literal)
{
    auto tpl = parse_ok(R"(\{{ not a ref }} {{ inputs.a }})");
    render_context ctx;
    ctx.inputs["a"] = "A";
    EXPECT_EQ(render_template(tpl, ctx).value(), "{{ not a ref }} A");
}

TEST(template_render, shell_quote_makes_any_value_one_literal_word)
{
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("plain"), "'plain'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("$(rm -rf /) `x` \"y\" \\"), "'$(rm -rf /) `x` \"y\" \\'");
}

TEST(template_render, an_escape_applies_to_substituted_values_only)
{
    auto tpl = parse_ok("echo '{{ inputs.a }}' {{ inputs.a }}");
    render_context ctx;
    ctx.inputs["a"] = "x y";
    std::string why;
    auto out = render_template(tpl, ctx, &shell_quote, &why);
    ASSERT_TRUE(out.has_value()) << why;
    EXPECT_EQ(*out, "echo ''x y'' 'x y'") << "the literal quotes stay as written";
}

TEST(template_render, missing_values_are_errors)
{
    render_context ctx;
    ctx.phases["t"] = {"text only", std::nullopt};
    ctx.phases["j"] = {"{}", nlohmann::json::object()};
    struct
    {
        const char* tpl;
        const char* why;
    } cases[] = {
        {"{{ inputs.nope }}", "no value for input 'nope'"},
        {"{{ phases.x.output }}", "phase 'x' has no result"},
        {"{{ phases.t.json.a }}", "phase 't' has no JSON output"},
        {"{{ phases.j.json.a.b }}", "'phases.j.json.a' does not exist in the output of phase 'j'"},
    };
    for (const auto& c : cases)
    {
        std::string why;
        auto out = render_template(parse_ok(c.tpl), ctx, &why);
        ASSERT_FALSE(out.has_value()) << c.tpl;
        EXPECT_EQ(out.error(), make_error_code(workflow_errc::render_failed));
        EXPECT_EQ(why, c.why);
    }
}

}  // namespace
}  // namespace ep::engine
