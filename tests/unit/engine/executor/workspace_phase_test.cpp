// Phases that act on the workspace, through the executor: a command phase's event lifecycle
// (phase_started … phase_completed|phase_failed, like an LLM phase), `run:` templates (argv
// elements one argument each, a shell script's values quoted), and a tool phase whose final
// JSON answer gets the same one repair as a phase without tools.
#include "executor_test_util.hpp"

#include <fstream>
#include <sstream>

namespace ep::engine::exec_test {
namespace {

namespace fs = std::filesystem;

// The types of the events of `phase`, in order.
std::vector<std::string> types_of(const collecting_sink& sink, const std::string& phase)
{
    std::vector<std::string> out;
    for (const auto& e : sink.events)
        if (e.field("phase") == phase)
            out.push_back(e.type);
    return out;
}

class workspace_phase : public executor_fixture
{
protected:
    workspace_phase() { workspace_.dir = dir_ / "ws"; }

    fs::path ws() const { return dir_ / "ws"; }

    std::string output_of(const std::string& run_id, const std::string& phase)
    {
        return db().get_phase(run_id, phase).value().output_text;
    }
};

TEST_F(workspace_phase, a_command_phase_starts_and_ends_like_an_llm_phase)
{
    add_provider("p1", [](const pv::chat_request&) { return fake_reply{"fine"}; });
    load(R"(
name: lifecycle
phases:
  ok: {run: [sh, -c, "echo out"]}
  bad: {run: [sh, -c, "exit 3"], needs: [ok]}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(types_of(sink, "ok"),
              (std::vector<std::string>{"phase_started", "command_started", "command_output", "command_completed",
                                        "phase_completed"}));
    EXPECT_EQ(types_of(sink, "bad"),
              (std::vector<std::string>{"phase_started", "command_started", "command_completed", "phase_failed"}));
    const auto started = sink.of_type("phase_started");
    ASSERT_EQ(started.size(), 2u);
    EXPECT_EQ(started[0]->fields.value("attempt", 0), 1);
    EXPECT_EQ(started[0]->field("provider"), "") << "no model is called";
    EXPECT_EQ(started[0]->field("model"), "");
    // Stored with the instance, as an LLM phase's start is.
    bool stored = false;
    for (const auto& e : db().get_events(out->run_id).value())
        stored = stored || (e.type == "phase_started" && e.payload.value("phase", "") == "ok");
    EXPECT_TRUE(stored);
}

const char* argv_yaml = R"(
name: argv
inputs:
  name: {type: string}
phases:
  first: {run: [printf, "%s", "from first"]}
  show:
    needs: [first]
    run: [printf, "[%s]", "{{ inputs.name }}", "{{ phases.first.output }}", "exit={{ phases.first.json.exit_code }}", '\{{ kept }}']
)";

TEST_F(workspace_phase, run_argv_elements_are_templates_each_rendered_as_one_argument)
{
    load(argv_yaml);
    auto out = run_workflow({}, {}, nullptr, {{"name", "a b; touch pwned $(touch pwned2)"}});
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(output_of(out->run_id, "show"), "[a b; touch pwned $(touch pwned2)][from first][exit=0][{{ kept }}]");
    EXPECT_FALSE(fs::exists(ws() / "pwned"));
    EXPECT_FALSE(fs::exists(ws() / "pwned2"));
    // command_started shows the argv as run.
    const auto started = sink.of_type("command_started");
    ASSERT_EQ(started.size(), 2u);
    EXPECT_EQ(started[1]->fields["argv"][2], "a b; touch pwned $(touch pwned2)");
}

TEST_F(workspace_phase, a_shell_script_gets_each_value_quoted_as_one_word)
{
    load(R"(
name: script
inputs:
  name: {type: string}
phases:
  show:
    run: "printf '<%s>' {{ inputs.name }} && echo"
    shell: true
)");
    const std::string hostile = "x' y; touch pwned; echo '$(touch pwned2)`touch pwned3`\"";
    auto out = run_workflow({}, {}, nullptr, {{"name", hostile}});
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(output_of(out->run_id, "show"), "<" + hostile + ">\n") << "one word, taken literally";
    EXPECT_FALSE(fs::exists(ws() / "pwned"));
    EXPECT_FALSE(fs::exists(ws() / "pwned2"));
    EXPECT_FALSE(fs::exists(ws() / "pwned3"));
}

TEST_F(workspace_phase, a_fan_out_command_renders_its_item)
{
    load(R"(
name: items
inputs:
  files: {type: string, default: '["a.txt", "b c.txt"]'}
phases:
  touch:
    for_each: '.inputs.files | fromjson'
    run: [touch, "{{ item }}"]
)");
    auto out = run_workflow();
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_TRUE(fs::exists(ws() / "a.txt"));
    EXPECT_TRUE(fs::exists(ws() / "b c.txt"));
}

TEST_F(workspace_phase, a_reference_without_a_value_fails_the_command_phase_with_why)
{
    load(R"(
name: missing
phases:
  first: {run: [sh, -c, ":"]}
  show: {needs: [first], run: [echo, "{{ phases.first.json.nope }}"]}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    const auto rec = db().get_phase(out->run_id, "show").value();
    EXPECT_NE(rec.error.find("cannot render `run:` argument 2"), std::string::npos) << rec.error;
    EXPECT_NE(rec.error.find("nope"), std::string::npos) << rec.error;
    EXPECT_TRUE(sink.of_type("command_started").size() == 1u) << "the command did not start";
}

const char* tool_json_yaml = R"(
name: tooljson
phases:
  survey:
    persona: writer
    prompt: "list the files"
    tools: [list_files]
    output:
      format: json
      schema: {type: object, required: [count], properties: {count: {type: integer}}}
)";

TEST_F(workspace_phase, a_tool_phase_json_answer_gets_one_repair)
{
    int calls = 0;
    auto& p1 = add_provider("p1", [&](const pv::chat_request&) {
        fake_reply r;
        ++calls;
        if (calls == 1)
            r.tool_calls.push_back({"c1", "list_files", "{}"});
        else if (calls == 2)
            r.text = "There is one file.";  // not JSON
        else
            r.text = R"({"count": 1})";
        return r;
    });
    fs::create_directories(ws());
    std::ofstream(ws() / "one.txt") << "1";
    load(tool_json_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    ASSERT_EQ(p1.requests.size(), 3u);
    const auto repair = last_user_text(p1.requests[2]);
    EXPECT_NE(repair.find("count"), std::string::npos) << repair;
    EXPECT_FALSE(p1.requests[2].tools.empty()) << "the tools stay offered";
    const auto rec = db().get_phase(out->run_id, "survey").value();
    ASSERT_TRUE(rec.output_json);
    EXPECT_EQ((*rec.output_json)["count"], 1);
    EXPECT_EQ(rec.attempts, 3);
}

TEST_F(workspace_phase, a_tool_phase_json_answer_still_invalid_after_the_repair_fails)
{
    auto& p1 = add_provider("p1", [](const pv::chat_request&) { return fake_reply{"no JSON here"}; });
    load(tool_json_yaml);
    auto out = run_workflow();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, run_status::failed);
    EXPECT_EQ(p1.requests.size(), 2u) << "exactly one repair";
    const auto rec = db().get_phase(out->run_id, "survey").value();
    EXPECT_NE(rec.error.find("invalid JSON output after the tool rounds and one repair attempt"), std::string::npos)
        << rec.error;
}

TEST_F(workspace_phase, a_tool_phase_emits_phase_started_for_each_model_call)
{
    int calls = 0;
    add_provider("p1", [&](const pv::chat_request&) {
        fake_reply r{"done"};
        if (++calls == 1)
        {
            r.text.clear();
            r.tool_calls.push_back({"c1", "list_files", "{}"});
        }
        return r;
    });
    load(R"(
name: tools
phases:
  look: {persona: writer, prompt: "look", tools: [list_files]}
)");
    auto out = run_workflow();
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, run_status::completed) << out->error;
    EXPECT_EQ(types_of(sink, "look"), (std::vector<std::string>{"phase_started", "tool_call", "tool_result",
                                                                "phase_started", "text_delta", "phase_completed"}));
}

}  // namespace
}  // namespace ep::engine::exec_test
