#include "../engine/engine_test_util.hpp"

#include <ep/cli/cli.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ep::cli {
namespace {

namespace test = ep::engine::test;

struct cli_result
{
    int code;
    std::string out;
    std::string err;
};

cli_result run(std::vector<std::string> args, ep::environment env = test::empty_env(), const cli_handlers& handlers = {})
{
    env.set("EP_HOME", test::source_dir().string());
    args.insert(args.begin(), "ep-run");
    std::ostringstream out, err;
    int code = run_cli(args, out, err, env, handlers);
    return {code, out.str(), err.str()};
}

std::string data(const std::string& name) { return (test::testdata_dir() / name).string(); }
std::string shipped(const std::string& name) { return (test::shipped_dir() / name).string(); }

TEST(cli, validate_ok)
{
    auto r = run({"--validate", shipped("design-implement-review.yaml")});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, shipped("design-implement-review.yaml") +
                         ": ok (workflow 'design-implement-review', 3 phases in 3 levels)\n");
    EXPECT_EQ(r.err, "");
}

TEST(cli, validate_reports_all_errors_sorted_and_exits_2)
{
    const auto file = data("bad/several_errors.yaml");
    auto r = run({"--validate", file});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, file + ":3:3: phase 'design' has no prompt (give it a prompt, make it a command with 'run: [...]', or make it a gate with 'approval: {prompt: …}')\n" +
                         file + ":4:14: unknown persona 'architekt' (did you mean 'architect'?)\n" +
                         file + ":5:5: unknown key 'promt' (did you mean 'prompt'?)\n" +
                         file + ":8:13: phase 'implement' needs unknown phase 'desing' (did you mean 'design'?)\n" +
                         file + ":9:24: phase 'implement' uses 'design', which it does not need (add 'design' to its needs)\n" +
                         file + ":9:55: unknown input 'task' in {{ inputs.task }}\n");
}

TEST(cli, validate_cycle)
{
    const auto file = data("bad/cycle.yaml");
    auto r = run({"--validate", file});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, file + ":3:3: dependency cycle: a -> b -> c -> a\n");
}

TEST(cli, graph_mermaid_and_dot)
{
    auto r = run({"--graph", data("good/diamond.yaml")});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "flowchart TD\n"
                     "    plan[\"plan<br/><i>architect</i>\"]\n"
                     "    left[\"left<br/><i>code_writer_openai</i>\"]\n"
                     "    right[\"right<br/><i>reviewer</i>\"]\n"
                     "    join[\"join<br/><i>qa_engineer</i>\"]\n"
                     "    plan --> left\n"
                     "    plan --> right\n"
                     "    left --> join\n"
                     "    right --> join\n");
    auto d = run({"--graph", data("good/diamond.yaml"), "--format", "dot"});
    EXPECT_EQ(d.code, 0) << d.err;
    EXPECT_EQ(d.out, "digraph \"diamond\" {\n"
                     "    rankdir=TB;\n    node [shape=box, style=rounded];\n"
                     "    \"plan\" [label=\"plan\\narchitect\"];\n"
                     "    \"left\" [label=\"left\\ncode_writer_openai\"];\n"
                     "    \"right\" [label=\"right\\nreviewer\"];\n"
                     "    \"join\" [label=\"join\\nqa_engineer\"];\n"
                     "    \"plan\" -> \"left\";\n"
                     "    \"plan\" -> \"right\";\n"
                     "    \"left\" -> \"join\";\n"
                     "    \"right\" -> \"join\";\n"
                     "}\n");
}

TEST(cli, graph_draws_loops_conditions_fan_outs_and_gates)
{
    auto r = run({"--graph", data("good/control_flow.yaml")});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "flowchart TD\n"
                     "    plan[\"plan<br/><i>architect</i>\"]\n"
                     "    build[[\"build<br/><i>code_writer</i><br/>for each: .phases.plan.json.tasks<br/>max_parallel: 2\"]]\n"
                     "    review[\"review<br/><i>reviewer</i>\"]\n"
                     "    ship{{\"ship<br/><i>approval</i><br/>Ship it?\"}}\n"
                     "    notes[\"notes<br/><i>documentation_writer</i>\"]\n"
                     "    plan --> build\n"
                     "    build --> review\n"
                     "    review --> ship\n"
                     "    ship -->|\"when: .phases.ship.json.approved\"| notes\n"
                     "    review -. \"until: .phases.review.output #124; startswith(#quot;approve#quot;)<br/>max_iterations: 3\" .-> build\n");
    auto d = run({"--graph", data("good/control_flow.yaml"), "--format", "dot"});
    EXPECT_EQ(d.code, 0) << d.err;
    EXPECT_EQ(d.out, "digraph \"control-flow\" {\n"
                     "    rankdir=TB;\n    node [shape=box, style=rounded];\n"
                     "    \"plan\" [label=\"plan\\narchitect\"];\n"
                     "    \"build\" [label=\"build\\ncode_writer\\nfor each: .phases.plan.json.tasks\\nmax_parallel: 2\", peripheries=2];\n"
                     "    \"review\" [label=\"review\\nreviewer\"];\n"
                     "    \"ship\" [label=\"ship\\napproval\\nShip it?\", shape=hexagon, style=solid];\n"
                     "    \"notes\" [label=\"notes\\ndocumentation_writer\"];\n"
                     "    \"plan\" -> \"build\";\n"
                     "    \"build\" -> \"review\";\n"
                     "    \"review\" -> \"ship\";\n"
                     "    \"ship\" -> \"notes\" [label=\"when: .phases.ship.json.approved\"];\n"
                     "    \"review\" -> \"build\" [style=dashed, constraint=false, label=\"until: .phases.review.output | startswith(\\\"approve\\\")\\nmax_iterations: 3\"];\n"
                     "}\n");
}

TEST(cli, explain_shows_the_control_flow_of_every_phase_with_its_routing)
{
    auto r = run({"--explain", "--emulate", data("good/control_flow.yaml")});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("2. build [level 1] persona code_writer\n"
                         "   for each: .phases.plan.json.tasks (max_parallel 2)\n"
                         "   in the loop of review\n"
                         "   chosen    "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("3. review [level 2] persona reviewer\n"
                         "   loop: build .. review again until: .phases.review.output | startswith(\"approve\") "
                         "(max_iterations 3, on_exhausted fail)\n"
                         "   chosen    "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("4. ship [level 3] approval gate\n"
                         "   approval gate: \"Ship it?\" (timeout 24h, then reject)\n"
                         "   routing   none: a person decides (ep-run --approve|--reject RUN_ID ship)\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("5. notes [level 4] persona documentation_writer\n"
                         "   when: .phases.ship.json.approved (false or null: skipped)\n"
                         "   budget: max_cost_usd 0.5\n"
                         "   chosen    "),
              std::string::npos)
        << r.out;
}

TEST(cli, explain_shows_run_order_and_routes)
{
    auto env = test::empty_env();
    env.set("EP_OPENAI_API_KEY", "sk-secret-value");
    auto r = run({"--explain", shipped("design-implement-review.yaml")}, env);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.find("sk-secret"), std::string::npos);
    EXPECT_NE(r.out.find("workflow design-implement-review · mix A"), std::string::npos) << r.out;
    const auto design = r.out.find("1. design [level 0] persona architect\n   chosen    openai/");
    EXPECT_NE(design, std::string::npos) << r.out;
    // The Claude preferences come first but have no credentials: dropped with what to set.
    EXPECT_NE(r.out.find("dropped   anthropic", design), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unavailable: set EP_ANTHROPIC_API_KEY"), std::string::npos) << r.out;
    EXPECT_LT(r.out.find("1. design"), r.out.find("2. implement"));
    EXPECT_LT(r.out.find("2. implement"), r.out.find("3. review"));
}

TEST(cli, explain_with_mix_d_routes_everything_to_openai)
{
    auto env = test::empty_env();
    env.set("EP_OPENAI_API_KEY", "k");
    env.set("EP_ANTHROPIC_API_KEY", "k");
    env.set("EP_GEMINI_API_KEY", "k");
    auto r = run({"--explain", shipped("sdlc.yaml"), "--config", "D"}, env);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.find("chosen    anthropic/"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("fallback 1 anthropic/"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("chosen    gemini/"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("test_plan [level 3]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("review [level 3]"), std::string::npos) << r.out;
}

TEST(cli, explain_of_an_unroutable_persona_exits_2_and_names_what_to_set)
{
    auto r = run({"--explain", shipped("design-implement-review.yaml"), "--config", "D"});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("UNROUTABLE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("EP_OPENAI_API_KEY"), std::string::npos) << r.out;
}

TEST(cli, explain_with_emulate_shows_the_emulated_routes)
{
    auto r = run({"--explain", "--emulate", shipped("design-implement-review.yaml")});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("1. design [level 0] persona architect\n   chosen    anthropic/"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("emulated-key"), std::string::npos) << r.out;
}

TEST(cli, usage_errors_exit_2)
{
    struct
    {
        std::vector<std::string> args;
        std::string err;
    } cases[] = {
        {{}, "ep-run: missing WORKFLOW.yaml (see ep-run --help)\n"},
        {{"--validate", "--graph", "x.yaml"}, "ep-run: --validate and --graph cannot be combined\n"},
        {{"--list", "x.yaml"}, "ep-run: --list takes no workflow file (got 'x.yaml')\n"},
        {{"--validate", "x.yaml", "--format", "dot"}, "ep-run: --format is only used with --graph\n"},
        {{"--graph", "x.yaml", "--format", "png"},
         "ep-run: --format: png not in {mermaid,dot} (see ep-run --help)\n"},
        {{"--bogus"}, "ep-run: The following argument was not expected: --bogus (see ep-run --help)\n"},
        {{"--validate", "/nonexistent.yaml"}, "/nonexistent.yaml: no such file\n"},
        {{"--explain", shipped("sdlc.yaml"), "--config", "Q"},
         "unknown config 'Q' (expected A, B, C, D, E or the path of a mix file)\n"},
        {{"--validate", shipped("sdlc.yaml"), "--input", "tsk=1"},
         "ep-run: --input tsk: the workflow has no input 'tsk' (did you mean 'task'?)\n"},
    };
    for (const auto& c : cases)
    {
        auto r = run(c.args);
        EXPECT_EQ(r.code, 2) << c.err;
        EXPECT_EQ(r.err, c.err);
    }
}

TEST(cli, an_empty_handler_says_no_handler_is_installed)
{
    EXPECT_EQ(run({"--list"}).err, "ep-run: --list: no handler is installed for this mode\n");
    EXPECT_EQ(run({"--list"}).code, 2);
    EXPECT_EQ(run({"--show", "r1", "--output", "design"}).err, "ep-run: --show: no handler is installed for this mode\n");
    EXPECT_EQ(run({"--resume", "r1"}).err, "ep-run: --resume: no handler is installed for this mode\n");
    EXPECT_EQ(run({shipped("sdlc.yaml")}).err, "ep-run: running a workflow: no handler is installed for this mode\n");
}

TEST(cli, handlers_receive_parsed_options)
{
    cli_handlers handlers;
    cli_options seen;
    handlers.run = [&](cli_context& ctx) {
        seen = ctx.options;
        ctx.out << "ran\n";
        return 0;
    };
    auto r = run({"wf.yaml", "--config", "c", "--input", "a=1", "--input", "b=2", "--input-file", "f=p", "--db", "x.db",
                  "--json", "--emulate", "--quiet", "--fail-fast", "--durability", "full", "--personas", "p.yaml"},
                 test::empty_env(), handlers);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "ran\n");
    EXPECT_EQ(seen.workflow, "wf.yaml");
    EXPECT_EQ(seen.config, "c");
    EXPECT_TRUE(seen.config_given);
    EXPECT_EQ(seen.inputs, (std::vector<std::string>{"a=1", "b=2"}));
    EXPECT_EQ(seen.input_files, (std::vector<std::string>{"f=p"}));
    EXPECT_EQ(seen.db, "x.db");
    EXPECT_TRUE(seen.json && seen.emulate && seen.quiet && seen.fail_fast);
    EXPECT_EQ(seen.durability, "full");
    EXPECT_EQ(seen.personas_file, std::filesystem::path("p.yaml"));
}

TEST(cli, inputs_before_the_workflow_take_one_value_each)
{
    cli_handlers handlers;
    cli_options seen;
    handlers.run = [&](cli_context& ctx) {
        seen = ctx.options;
        return 0;
    };
    auto r = run({"--input", "task=x", "--input-file", "spec=p", "wf.yaml"}, test::empty_env(), handlers);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(seen.workflow, "wf.yaml");
    EXPECT_EQ(seen.inputs, (std::vector<std::string>{"task=x"}));
    EXPECT_EQ(seen.input_files, (std::vector<std::string>{"spec=p"}));
}

TEST(cli, help_exits_0)
{
    auto r = run({"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("--validate"), std::string::npos);
}

/// A workflow file in a fresh temporary directory (removed with the object).
struct temp_workflow
{
    std::filesystem::path dir;
    std::string path;

    explicit temp_workflow(const std::string& yaml)
    {
        dir = std::filesystem::temp_directory_path() /
              ("ep_cli_byo_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::create_directories(dir);
        path = (dir / "wf.yaml").string();
        std::ofstream(path) << yaml;
    }
    ~temp_workflow() { std::filesystem::remove_all(dir); }
};

TEST(cli, explain_accepts_a_local_model_without_a_key_and_warns_it_is_not_in_the_catalogue)
{
    temp_workflow wf(R"(name: local
providers:
  ollama: {type: openai, base_url: "http://127.0.0.1:11434/v1", auth: none, models: [{id: llama3.1}]}
personas:
  local_writer: {provider_preferences: [ollama/llama3.1, ollama/qwen3-coder]}
phases:
  a: {persona: local_writer, prompt: hi}
)");
    auto r = run({"--explain", wf.path});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("chosen    ollama/llama3.1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("warning: " + wf.path + ":5:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ollama/qwen3-coder is not in the catalogue: default limits, price unknown"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("fallback 1 ollama/qwen3-coder"), std::string::npos) << r.out;

    auto v = run({"--validate", wf.path});
    EXPECT_EQ(v.code, 0) << v.err;
    EXPECT_NE(v.err.find("warning: " + wf.path + ":5:"), std::string::npos) << v.err;
    EXPECT_NE(v.err.find("ollama/qwen3-coder is not in the catalogue"), std::string::npos) << v.err;
}

TEST(cli, explain_of_an_unusable_pinned_model_exits_2_naming_the_reason)
{
    temp_workflow wf(R"(name: pinned
providers:
  openai: {base_url: "http://127.0.0.1:8000/v1", auth: none}
personas:
  long_reader: {requires: [long_context], provider_preferences: [openai, anthropic]}
phases:
  a: {persona: long_reader, prompt: hi, model: openai/llama3.1}
)");
    auto env = test::empty_env();
    env.set("EP_ANTHROPIC_API_KEY", "k");
    auto r = run({"--explain", wf.path}, env);
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("PINNED MODEL UNUSABLE: phase model 'openai/llama3.1'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("openai/llama3.1: missing capability long_context"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("chosen    anthropic/"), std::string::npos) << "silently swapped:\n" << r.out;
}

TEST(cli, validate_ignores_a_broken_persona_the_workflow_does_not_use)
{
    temp_workflow wf(R"(name: w
personas:
  broken: {provider_preferences: [nowhere/x]}
phases:
  a: {persona: architect, prompt: hi}
)");
    auto r = run({"--validate", wf.path});
    EXPECT_EQ(r.code, 0) << r.err;
    temp_workflow uses(R"(name: w
personas:
  broken: {provider_preferences: [nowhere/x]}
phases:
  a: {persona: broken, prompt: hi}
)");
    auto bad = run({"--validate", uses.path});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find(uses.path + ":3:"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("unknown provider 'nowhere'"), std::string::npos) << bad.err;
}

TEST(cli, models_lists_the_providers_own_models_marked_against_the_catalogue)
{
    auto r = run({"--models", "openai", "--emulate", "--quiet"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("openai: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("models listed by http://127.0.0.1:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("CATALOGUE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" yes "), std::string::npos) << "no listed model is in the catalogue:\n" << r.out;
}

TEST(cli, models_of_an_unknown_or_unusable_provider_exits_2_saying_why)
{
    auto unknown = run({"--models", "nowhere"});
    EXPECT_EQ(unknown.code, 2);
    EXPECT_NE(unknown.err.find("unknown provider 'nowhere' (known: "), std::string::npos) << unknown.err;
    auto keyless = run({"--models", "anthropic"});  // no key, no base URL: unavailable
    EXPECT_EQ(keyless.code, 2);
    EXPECT_NE(keyless.err.find("anthropic: cannot list models: "), std::string::npos) << keyless.err;
    auto with_workflow = run({"--models", "openai", shipped("design-implement-review.yaml")});
    EXPECT_EQ(with_workflow.code, 2) << with_workflow.err;
}

TEST(cli, explain_shows_a_command_phase_as_what_it_runs_without_routing)
{
    auto r = run({"--explain", "--emulate", shipped("implement-test-fix.yaml")});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(" test [level "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("] command\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("routing   none: runs `python3 -m unittest"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ep::cli
