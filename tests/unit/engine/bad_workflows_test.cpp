// Table-driven malformed workflows: each case asserts the exact messages and line:col that
// `ep-run --validate` prints (all of them, in order), and that nothing crashes.
#include "engine_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace ep::engine {
namespace {

struct bad_case
{
    const char* name;
    std::string yaml;
    std::vector<std::string> expected;  // "LINE:COL: message"
};

// A valid prefix most cases build on.
const std::string head = "name: w\nphases:\n";

std::vector<bad_case> cases()
{
    return {
        // ---- syntax and encoding -------------------------------------------------------------
        {"empty_file", "", {"1:1: file is empty"}},
        {"only_comments", "# nothing here\n\n", {"1:1: file has no YAML content"}},
        {"nul_byte", std::string("name: w\nph\0ses: {}\n", 19), {"2:3: binary data (NUL byte); a workflow must be UTF-8 text"}},
        {"binary_garbage", "\x7f" "ELF\x02\x01\x01\xff\xfe\x80", {"1:8: invalid UTF-8 (byte 0xFF); a workflow must be UTF-8 text"}},
        {"invalid_utf8_later", "name: w\ndescription: caf\xc3\x28\n", {"2:17: invalid UTF-8 (byte 0xC3); a workflow must be UTF-8 text"}},
        {"unclosed_flow", head + "  a: {persona: architect, prompt: x\n", {"4:1: YAML syntax error: end of map flow not found"}},
        {"bad_indentation", "name: w\n  phases: x\n", {"2:9: YAML syntax error: illegal map value"}},
        {"tab_indentation", "name: w\nphases:\n\ta: {}\n", {"3:3: YAML syntax error: illegal map value"}},
        {"unterminated_quote_at_eof", head + "  a:\n    persona: \"architect\n", {"3:3: phase 'a' has no prompt (give it a prompt, make it a command with 'run: [...]', or make it a gate with 'approval: {prompt: …}')", "4:14: unknown persona 'architect ' (did you mean 'architect'?)"}},
        {"two_documents", head + "  a: {persona: architect, prompt: x}\n---\nname: other\n", {"4:1: only one YAML document is allowed per file"}},
        {"not_a_mapping", "- a\n- b\n", {"1:1: the file must be a mapping (key: value), got a list"}},
        {"deep_flow_nesting", "name: " + std::string(200, '[') + std::string(200, ']') + "\n", {"1:70: nesting is deeper than 64 levels"}},
        {"deep_block_nesting", [] {
             std::string s = "name: w\nx:\n";
             for (int i = 1; i < 80; ++i)
                 s += std::string(static_cast<std::size_t>(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
             return s;
         }(), {"66:129: nesting is deeper than 64 levels"}},
        {"alias_bomb", [] {
             std::string s = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
             for (int i = 1; i < 8; ++i)
                 s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
                      [&] { std::string r; for (int k = 0; k < 10; ++k) r += (k ? ", *a" : "*a") + std::to_string(i - 1); return r; }() + "]\n";
             return s;
         }(), {"1:25: document expands to too many nodes (alias expansion?)"}},
        // ---- schema -------------------------------------------------------------------------------
        {"missing_name_and_phases", "description: nothing\n", {"1:1: missing required key 'name'", "1:1: missing required key 'phases'"}},
        {"unknown_top_level_key", "name: w\nphazes: {}\n", {"1:1: missing required key 'phases'", "2:1: unknown key 'phazes' (did you mean 'phases'?)"}},
        {"unknown_phase_key", head + "  a:\n    persona: architect\n    promt: x\n", {"3:3: phase 'a' has no prompt (give it a prompt, make it a command with 'run: [...]', or make it a gate with 'approval: {prompt: …}')", "5:5: unknown key 'promt' (did you mean 'prompt'?)"}},
        {"unknown_key_no_suggestion", head + "  a:\n    persona: architect\n    prompt: x\n    colour: red\n", {"6:5: unknown key 'colour' (expected one of: allow_failure, approval, budget, cache, context, cwd, description, env, files, first_token_timeout, for_each, gate, max_parallel, max_tokens, max_tool_rounds, model, needs, needs_any, network, on_content_filter, output, persona, prompt, reasoning, repeat, retry, run, shell, system, temperature, timeout, tools, when)"}},
        {"wrong_type_prompt", head + "  a:\n    persona: architect\n    prompt: [x]\n", {"5:13: 'prompt' must be a string, got a list"}},
        {"wrong_type_needs", head + "  a:\n    persona: architect\n    prompt: x\n    needs: b\n", {"6:12: 'needs' must be a list, got a string"}},
        {"wrong_type_max_tokens", head + "  a:\n    persona: architect\n    prompt: x\n    max_tokens: lots\n", {"6:17: 'max_tokens' must be an integer, got a string"}},
        {"temperature_out_of_range", head + "  a:\n    persona: architect\n    prompt: x\n    temperature: 3\n", {"6:18: 'temperature' must be at most 2"}},
        {"bad_duration", head + "  a:\n    persona: architect\n    prompt: x\n    timeout: 5 minutes\n", {"6:14: invalid value '5 minutes' for 'timeout' (expected a duration such as 1500ms, 30s, 5m or 1h, or whole seconds)"}},
        {"bad_output_format", head + "  a:\n    persona: architect\n    prompt: x\n    output: {format: jsno}\n", {"6:22: invalid value 'jsno' for 'format' (did you mean 'json'?)"}},
        {"retry_zero_attempts", head + "  a:\n    persona: architect\n    prompt: x\n    retry: {max_attempts: 0}\n", {"6:27: 'max_attempts' must be at least 1"}},
        {"empty_phases", "name: w\nphases: {}\n", {"2:9: 'phases' must not be empty"}},
        {"bad_phase_id", head + "  a.b:\n    persona: architect\n    prompt: x\n", {"3:3: invalid name 'a.b' (use letters, digits, '_' and '-', starting with a letter or '_')"}},
        {"phase_not_a_mapping", head + "  a: just text\n", {"3:6: 'a' must be a mapping, got a string"}},
        {"duplicate_phase_id", head + "  a: {persona: architect, prompt: x}\n  a: {persona: reviewer, prompt: y}\n", {"4:3: duplicate key 'a' (first defined at line 3)"}},
        {"duplicate_key_in_phase", head + "  a:\n    persona: architect\n    prompt: x\n    persona: reviewer\n", {"6:5: duplicate key 'persona' (first defined at line 4)"}},
        {"output_schema_with_text", head + "  a:\n    persona: architect\n    prompt: x\n    output: {format: text, schema: {type: object}}\n", {"6:28: output schema is only used with 'format: json'"}},
        // ---- inputs ---------------------------------------------------------------------------------
        {"bad_input_type", "name: w\ninputs:\n  n: {type: integer}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:13: invalid value 'integer' for 'type' (expected one of: string, number, boolean, file)"}},
        {"input_default_wrong_type", "name: w\ninputs:\n  n: {type: number, default: ten}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:30: default of input 'n' must be a number"}},
        {"input_unknown_key", "name: w\ninputs:\n  n: {type: string, requried: true}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:21: unknown key 'requried' (did you mean 'required'?)"}},
        // ---- graph -------------------------------------------------------------------------------------
        {"self_dependency", head + "  a: {persona: architect, prompt: x, needs: [a]}\n", {"3:46: phase 'a' needs itself"}},
        {"dangling_need", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, prompt: x, needs: [c]}\n", {"4:46: phase 'b' needs unknown phase 'c'"}},
        {"misspelt_need", head + "  design: {persona: architect, prompt: x}\n  b: {persona: architect, prompt: x, needs: [desing]}\n", {"4:46: phase 'b' needs unknown phase 'desing' (did you mean 'design'?)"}},
        {"two_cycle", head + "  a: {persona: architect, prompt: x, needs: [b]}\n  b: {persona: architect, prompt: x, needs: [a]}\n", {"3:3: dependency cycle: a -> b -> a"}},
        {"unknown_persona", head + "  a: {persona: architekt, prompt: x}\n", {"3:16: unknown persona 'architekt' (did you mean 'architect'?)"}},
        {"no_persona", head + "  a: {prompt: x}\n", {"3:3: phase 'a' has no persona (set 'persona' or 'defaults.persona')"}},
        // ---- templates -----------------------------------------------------------------------------
        {"template_unknown_input", "name: w\ninputs:\n  task: {}\n" + head.substr(8) + "  a: {persona: architect, prompt: \"do {{ inputs.tsak }}\"}\n", {"5:39: unknown input 'tsak' in {{ inputs.tsak }} (did you mean 'task'?)"}},
        {"template_unknown_phase", head + "  a: {persona: architect, prompt: x}\n  b:\n    persona: architect\n    needs: [a]\n    prompt: |\n      Use this:\n      {{ phases.aa.output }}\n", {"9:7: template {{ phases.aa.output }} refers to unknown phase 'aa'"}},
        {"template_not_upstream", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, prompt: \"{{ phases.a.output }}\"}\n", {"4:36: phase 'b' uses 'a', which it does not need (add 'a' to its needs)"}},
        {"template_own_output", head + "  a: {persona: architect, prompt: \"again: {{ phases.a.output }}\"}\n", {"3:43: phase 'a' cannot use its own output"}},
        {"template_unterminated", head + "  a:\n    persona: architect\n    prompt: |\n      line one\n      oops {{ inputs.x\n", {"7:12: unterminated '{{' in template (write \\{{ for a literal '{{')"}},
        {"template_bad_root", head + "  a: {persona: architect, prompt: \"{{ env.HOME }}\"}\n", {"3:36: unknown template root 'env' in '{{ env.HOME }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"}},
        {"template_json_of_text_phase", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, needs: [a], prompt: \"{{ phases.a.json.x }}\"}\n", {"4:48: phase 'a' has text output; use {{ phases.a.output }} or give it 'output: {format: json}'"}},
        {"context_not_upstream", head + "  a: {persona: architect, prompt: x}\n  b:\n    persona: architect\n    prompt: x\n    context: {continue: a}\n", {"7:25: phase 'b' uses 'a', which it does not need (add 'a' to its needs)"}},
        // ---- control flow ---------------------------------------------------------------------------
        {"repeat_from_not_an_ancestor", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, prompt: x}\n  c:\n    persona: architect\n    needs: [a]\n    prompt: x\n    repeat: {from: b, until: .x, max_iterations: 2}\n", {"9:20: repeat.from 'b' must be phase 'c' itself or one of its ancestors (a phase it needs, directly or not)"}},
        {"repeat_from_unknown", head + "  a:\n    persona: architect\n    prompt: x\n    repeat: {from: aa, until: .x, max_iterations: 2}\n", {"6:20: repeat.from names unknown phase 'aa'"}},
        {"max_iterations_missing", head + "  a:\n    persona: architect\n    prompt: x\n    repeat: {from: a, until: .x}\n", {"6:5: missing required key 'max_iterations' in 'repeat'"}},
        {"max_iterations_zero", head + "  a:\n    persona: architect\n    prompt: x\n    repeat: {from: a, until: .x, max_iterations: 0}\n", {"6:50: 'max_iterations' must be at least 1"}},
        {"max_iterations_too_many", head + "  a:\n    persona: architect\n    prompt: x\n    repeat: {from: a, until: .x, max_iterations: 1001}\n", {"6:50: 'max_iterations' must be at most 1000"}},
        {"overlapping_loops", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, needs: [a], prompt: x}\n  c:\n    persona: architect\n    needs: [b]\n    prompt: x\n    repeat: {from: a, until: .x, max_iterations: 2}\n  d:\n    persona: architect\n    needs: [c]\n    prompt: x\n    repeat: {from: b, until: .x, max_iterations: 2}\n", {"9:5: the loop of 'c' and the loop of 'd' overlap; loop bodies must be disjoint or one inside the other"}},
        {"jq_syntax_error", head + "  a: {persona: architect, prompt: x, when: '.a ==== 1'}\n", {"3:45: when: jq: syntax error, unexpected == (Unix shell quoting issues?)"}},
        {"jq_forbidden_builtin", head + "  a: {persona: architect, prompt: x, when: '$ENV.HOME == \"x\"'}\n", {"3:45: when: '$ENV' is not allowed in workflow expressions (it reads the environment)"}},
        {"jq_unbounded", head + "  a: {persona: architect, prompt: x, for_each: '[range(10)]'}\n", {"3:50: for_each: 'range' is not allowed in workflow expressions (it can generate without end)"}},
        {"for_each_and_approval", head + "  a:\n    for_each: '[1]'\n    approval: {prompt: \"ok?\"}\n", {"4:5: phase 'a' is an approval gate: it takes no 'for_each' (a gate asks a person; remove the key or the approval)"}},
        {"approval_with_persona", head + "  a:\n    persona: architect\n    approval: {prompt: \"ok?\"}\n", {"4:5: phase 'a' is an approval gate: it takes no 'persona' (a gate asks a person; remove the key or the approval)"}},
        {"previous_outside_a_loop", head + "  a: {persona: architect, prompt: x}\n  b: {persona: architect, needs: [a], prompt: \"{{ previous.a.output }}\"}\n", {"4:48: {{ previous.a.output }}: phase 'a' is not in a loop body with phase 'b' (previous.ID reads the previous iteration of the same loop)"}},
        {"previous_of_a_phase_outside_the_loop", head + "  a: {persona: architect, prompt: x}\n  b:\n    persona: architect\n    needs: [a]\n    prompt: \"{{ previous.a.output }}\"\n    repeat: {from: b, until: .x, max_iterations: 2}\n", {"7:14: {{ previous.a.output }}: phase 'a' is not in a loop body with phase 'b' (previous.ID reads the previous iteration of the same loop)"}},
        {"loop_iteration_outside_a_loop", head + "  a: {persona: architect, prompt: \"pass {{ loop.iteration }}\"}\n", {"3:41: {{ loop.iteration }} in phase 'a', which is in no loop body"}},
        {"item_without_for_each", head + "  a: {persona: architect, prompt: \"{{ item.x }}\"}\n", {"3:36: {{ item.x }} in phase 'a', which has no for_each"}},
        {"needs_any_without_needs", head + "  a: {persona: architect, prompt: x, needs_any: true}\n", {"3:38: phase 'a' has needs_any but no needs"}},
        {"negative_budget", "name: w\nbudget: {max_cost_usd: -1}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"2:24: 'max_cost_usd' must be at least 0"}},
        {"negative_phase_budget", head + "  a: {persona: architect, prompt: x, budget: {max_tokens: -5}}\n", {"3:59: 'max_tokens' must be at least 0"}},
        // ---- workspace: commands, files, tools, gates, git ------------------------------------------
        {"run_string_without_shell", head + "  t: {run: \"make test\"}\n", {"3:12: phase 't': `run:` is a string but `shell` is not true (give the program and its arguments as a list, or set 'shell: true')"}},
        {"shell_with_a_list", head + "  t: {run: [make], shell: true}\n", {"3:20: phase 't': 'shell: true' needs `run:` as one string (a script for /bin/sh -c), not a list"}},
        {"command_with_a_prompt", head + "  t: {run: [make], prompt: x}\n", {"3:20: phase 't' is a command phase (run:): it takes no 'prompt' (a command asks no model)"}},
        {"command_with_files", head + "  t: {run: [make], files: true}\n", {"3:20: phase 't' is a command phase (run:): it takes no 'files' (a command asks no model)"}},
        {"cwd_climbing_out", head + "  t: {run: [make], cwd: ../elsewhere}\n", {"3:25: phase 't': cwd `../elsewhere`: refused: a `..` component leaves the workspace"}},
        {"cwd_absolute", head + "  t: {run: [make], cwd: /tmp}\n", {"3:25: phase 't': cwd `/tmp`: refused: absolute paths are not allowed; give a path relative to the workspace"}},
        {"env_hands_over_a_key", head + "  t: {run: [make], env: {EP_OPENAI_API_KEY: x}}\n", {"3:26: phase 't': env 'EP_OPENAI_API_KEY' would hand an API key to the command; keys never reach a command's environment"}},
        {"env_value_not_a_string", head + "  t: {run: [make], env: {N: [1]}}\n", {"3:29: 'N' must be a string, got a list"}},
        {"shell_without_run", head + "  a: {persona: architect, prompt: x, shell: true}\n", {"3:38: phase 'a': 'shell' is only used with `run:` (a command phase)"}},
        {"allow_failure_without_run", head + "  a: {persona: architect, prompt: x, allow_failure: true}\n", {"3:38: phase 'a': 'allow_failure' is only used with `run:` (a command phase)"}},
        {"unknown_tool", head + "  a: {persona: architect, prompt: x, tools: [rm_rf]}\n", {"3:46: invalid value 'rm_rf' for 'tools[0]' (expected one of: read_file, write_file, list_files, run_tests)"}},
        {"run_tests_without_a_test_command", head + "  a: {persona: architect, prompt: x, tools: [read_file, run_tests]}\n", {"3:57: phase 'a' offers run_tests but the workflow declares no test_command (add 'test_command: {run: [...]}' at the top level)"}},
        {"max_tool_rounds_without_tools", head + "  a: {persona: architect, prompt: x, max_tool_rounds: 3}\n", {"3:38: phase 'a': max_tool_rounds is only used with tools:"}},
        {"gate_on_a_text_phase", head + "  a: {persona: architect, prompt: x, gate: {max_cost_usd: 1}}\n", {"3:38: phase 'a': gate: is for command phases and JSON phases (output: {format: json})"}},
        {"pass_rate_on_a_json_phase", head + "  a: {persona: architect, prompt: x, output: {format: json}, gate: {min_pass_rate: 0.9}}\n", {"3:69: phase 'a': gate.min_pass_rate reads a test command's results; it is only for command phases"}},
        {"pass_rate_above_one", head + "  t: {run: [make], gate: {min_pass_rate: 1.5}}\n", {"3:42: 'min_pass_rate' must be at most 1"}},
        {"empty_gate", head + "  t: {run: [make], gate: {}}\n", {"3:26: 'gate' must not be empty"}},
        {"git_not_a_boolean", "name: w\ngit: yes please\n" + head.substr(8) + "  t: {run: [make]}\n", {"2:6: 'git' must be a boolean, got a string"}},
        {"test_command_without_run", "name: w\ntest_command: {timeout: 1m}\n" + head.substr(8) + "  t: {run: [make]}\n", {"2:1: missing required key 'run' in 'test_command'"}},
        {"test_command_string_without_shell", "name: w\ntest_command: {run: \"make test\"}\n" + head.substr(8) + "  t: {run: [make]}\n", {"2:21: test_command: `run:` is a string but `shell` is not true (give the program and its arguments as a list, or set 'shell: true')"}},
        {"run_template_unknown_input", head + "  t: {run: [echo, \"{{ inputs.nme }}\"]}\n", {"3:20: unknown input 'nme' in {{ inputs.nme }}"}},
        {"run_script_template_not_upstream", head + "  u: {run: [make]}\n  t: {run: \"echo {{ phases.u.output }}\", shell: true}\n", {"4:18: phase 't' uses 'u', which it does not need (add 'u' to its needs)"}},
        {"run_template_syntax_error", head + "  t: {run: [echo, \"{{ phases. }}\"]}\n", {"3:20: invalid template expression '{{ phases. }}' (expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, previous.ID.json.PATH, loop.iteration, item, item.PATH or index)"}},
        // ---- inline policy -------------------------------------------------------------------------
        {"inline_persona_unknown_provider", "name: w\npersonas:\n  poet:\n    provider_preferences: [opnai]\n" + head.substr(8) + "  a: {persona: poet, prompt: x}\n", {"4:28: unknown provider 'opnai' (did you mean 'openai'?)"}},
        {"inline_provider_bad_type", "name: w\nproviders:\n  local: {type: ollama, base_url: http://127.0.0.1:1/v1, models: [{id: m}]}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:17: invalid value 'ollama' for 'type' (expected one of: openai, openai_responses, anthropic, gemini, claude_agent)"}},
        // Per-type options are read by the providers module (parse_type_options), located here.
        {"inline_provider_option_of_another_type", "name: w\nproviders:\n  local: {type: gemini, base_url: http://127.0.0.1:1/v1beta, azure_api_version: '2024-10-21', models: [{id: m}]}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:3: provider 'local': azure_api_version applies to type openai or openai_responses, not gemini"}},
        // ... but a mistyped value is reported once, by the schema.
        {"inline_provider_bad_cli_env", "name: w\nproviders:\n  claude_code: {cli_env: 'not a name'}\n" + head.substr(8) + "  a: {persona: architect, prompt: x}\n", {"3:26: invalid value 'not a name' for 'cli_env' (expected a value matching ^[A-Za-z_][A-Za-z0-9_]*$)"}},
    };
}

class bad_workflows : public ::testing::TestWithParam<std::size_t>
{
};

TEST_P(bad_workflows, report_exact_messages)
{
    const auto c = cases().at(GetParam());
    auto got = test::validate_text(c.yaml);
    EXPECT_EQ(got, c.expected) << "case " << c.name;
}

INSTANTIATE_TEST_SUITE_P(all, bad_workflows, ::testing::Range<std::size_t>(0, cases().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) { return cases().at(param_info.param).name; });

TEST(bad_workflows_suite, has_at_least_thirty_cases)
{
    EXPECT_GE(cases().size(), 30u);
}

TEST(bad_workflows_suite, fifty_megabyte_file_is_rejected_without_reading)
{
    auto dir = std::filesystem::temp_directory_path() / "ep_bad_workflows_big";
    std::filesystem::create_directories(dir);
    auto path = dir / "big.yaml";
    {
        std::ofstream out(path, std::ios::binary);
        std::string line = "# " + std::string(1021, 'x') + "\n";
        for (int i = 0; i < 50 * 1024; ++i)
            out << line;
    }
    ASSERT_EQ(std::filesystem::file_size(path), 50u << 20);
    diagnostics diag;
    auto spec = load_workflow_file(path, diag);
    EXPECT_FALSE(spec.has_value());
    ASSERT_EQ(diag.size(), 1u);
    EXPECT_EQ(diag.items()[0].str(), path.string() + ": file is too large (50 MiB; the limit is 8 MiB)");
    std::filesystem::remove_all(dir);
}

TEST(bad_workflows_suite, random_bytes_never_crash)
{
    // A deterministic generator: the same inputs on every run.
    std::uint32_t state = 12345;
    auto next = [&] {
        state = state * 1664525u + 1013904223u;
        return state >> 24;
    };
    const std::string alphabet = "ab:-[]{}\"' \n\t#&*!|>%@`,?{{}}";
    for (int round = 0; round < 300; ++round)
    {
        std::string text;
        std::size_t len = next() % 200;
        for (std::size_t i = 0; i < len; ++i)
            text += (round % 3 == 0) ? static_cast<char>(next()) : alphabet[next() % alphabet.size()];
        diagnostics diag;
        auto spec = load_workflow_string_partial(text, "fuzz.yaml", diag);
        if (spec)
            (void)compile(*spec, nullptr, diag);
        SUCCEED();
    }
}

}  // namespace
}  // namespace ep::engine
