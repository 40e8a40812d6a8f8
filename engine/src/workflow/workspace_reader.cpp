#include "workflow/workspace_reader.hpp"

#include <ep/engine/workspace/gate.hpp>
#include <ep/engine/workspace/path_rules.hpp>

#include <regex>

namespace ep::engine::detail {

namespace {

// Keys that only make sense on a command phase.
constexpr const char* command_only_keys[] = {"shell", "cwd", "env", "allow_failure", "network"};
// Keys a command phase does not take: it runs a program, it asks no model.
constexpr const char* llm_only_keys[] = {"persona", "prompt", "system", "model", "output", "context", "retry",
                                         "max_tokens", "temperature", "reasoning", "cache", "on_content_filter",
                                         "files", "tools", "max_tool_rounds", "approval"};

bool is_key_name(const std::string& name)
{
    static const std::regex key_name("^EP_.*_API_KEY$");
    return std::regex_match(name, key_name);
}

// A `run:` string as a template; its syntax errors at their FILE:LINE:COL.
command_decl::templated read_command_template(const yaml_document& doc, const std::string& text,
                                              const std::string& pointer, diagnostics& diag)
{
    command_decl::templated out{{text, doc.at(pointer)}, {}};
    std::vector<template_error> errors;
    out.tpl = parse_template(text, errors);
    for (const auto& e : errors)
        diag.add(locate_in_value(doc, out.text.where, text, e.offset), e.message);
    return out;
}

// A command phase's `run:` as templates (test_command: is not templated: it runs from a tool
// call, outside any phase's context).
void read_run_templates(const yaml_document& doc, const std::string& pointer, command_decl& cmd, diagnostics& diag)
{
    if (cmd.shell)
        cmd.script_template = read_command_template(doc, cmd.script, pointer + "/run", diag);
    else
        for (std::size_t i = 0; i < cmd.argv.size(); ++i)
            cmd.argv_templates.push_back(read_command_template(doc, cmd.argv[i], child_pointer(pointer + "/run", i), diag));
}

// `run:` and its keys, at `pointer` inside `obj` (a phase or `test_command:`).
command_decl read_command(const yaml_document& doc, const json& obj, const std::string& pointer,
                          const std::string& what, diagnostics& diag)
{
    command_decl cmd;
    cmd.where = doc.key_at(pointer + "/run");
    cmd.shell = get_bool(obj, "shell").value_or(false);
    const json* run = field(obj, "run");
    if (run && run->is_string())
    {
        if (!cmd.shell)
            diag.add(doc.at(pointer + "/run"), what + ": `run:` is a string but `shell` is not true (give the "
                                                      "program and its arguments as a list, or set 'shell: true')");
        cmd.script = run->get<std::string>();
    }
    else if (run && run->is_array())
    {
        if (cmd.shell)
            diag.add(doc.key_at(pointer + "/shell"), what + ": 'shell: true' needs `run:` as one string (a script "
                                                             "for /bin/sh -c), not a list");
        cmd.argv = get_strings(obj, "run");
    }
    if (auto cwd = get_string(obj, "cwd"))
    {
        path_rules rules;
        rules.allow_root = true;
        if (auto checked = check_relative_path(*cwd, rules); !checked)
            diag.add(doc.at(pointer + "/cwd"), what + ": cwd " + checked.error().message);
        else
            cmd.cwd = checked->str();
    }
    if (const json* env = field(obj, "env"); env && env->is_object())
        for (const auto& [name, value] : env->items())
        {
            if (is_key_name(name))
                diag.add(doc.key_at(child_pointer(pointer + "/env", name)),
                         what + ": env '" + name + "' would hand an API key to the command; keys never reach a "
                                                   "command's environment");
            else if (value.is_string())
                cmd.env[name] = value.get<std::string>();
        }
    cmd.timeout = get_duration(obj, "timeout");
    cmd.network = get_bool(obj, "network").value_or(false);
    return cmd;
}

void read_gate(const yaml_document& doc, const json& g, const std::string& pointer, phase_spec& phase,
               diagnostics& diag)
{
    gate_decl gate;
    gate.where = doc.key_at(pointer);
    std::string error;
    auto parsed = parse_gate_spec(g, error);
    if (!parsed)
        return;  // the schema reported it (range, duration, unknown key), at the value itself
    gate.min_pass_rate = parsed->min_pass_rate;
    gate.max_duration = parsed->max_duration;
    gate.max_cost_usd = parsed->max_cost_usd;
    if (gate.min_pass_rate && phase.kind != phase_kind::command)
        diag.add(doc.key_at(pointer + "/min_pass_rate"),
                 "phase '" + phase.id + "': gate.min_pass_rate reads a test command's results; it is only for "
                                        "command phases");
    phase.gate = gate;
}

void read_command_phase(const yaml_document& doc, const json& p, const std::string& pointer, phase_spec& phase,
                        diagnostics& diag)
{
    phase.kind = phase_kind::command;
    phase.persona = {"", phase.where};  // `defaults.persona` does not apply to a command
    phase.system.reset();
    phase.system_template.reset();
    for (const char* key : llm_only_keys)
        if (field(p, key))
            diag.add(doc.key_at(pointer + "/" + key), "phase '" + phase.id + "' is a command phase (run:): it "
                                                      "takes no '" + key + "' (a command asks no model)");
    phase.command = read_command(doc, p, pointer, "phase '" + phase.id + "'", diag);
    read_run_templates(doc, pointer, *phase.command, diag);
    phase.allow_failure = get_bool(p, "allow_failure").value_or(false);
}

}  // namespace

void read_workspace_keys(const yaml_document& doc, const json& p, const std::string& pointer, phase_spec& phase,
                         diagnostics& diag)
{
    if (field(p, "run"))
        read_command_phase(doc, p, pointer, phase, diag);
    else
    {
        for (const char* key : command_only_keys)
            if (field(p, key))
                diag.add(doc.key_at(pointer + "/" + key),
                         "phase '" + phase.id + "': '" + key + "' is only used with `run:` (a command phase)");
        phase.files = get_bool(p, "files").value_or(false);
        phase.tools = get_strings(p, "tools");
        if (auto rounds = get_int(p, "max_tool_rounds"))
        {
            if (phase.tools.empty())
                diag.add(doc.key_at(pointer + "/max_tool_rounds"),
                         "phase '" + phase.id + "': max_tool_rounds is only used with tools:");
            phase.max_tool_rounds = static_cast<int>(*rounds);
        }
    }
    if (const json* g = field(p, "gate"); g && g->is_object())
    {
        if (phase.kind == phase_kind::approval)
            diag.add(doc.key_at(pointer + "/gate"), "phase '" + phase.id + "' is an approval gate: it takes no 'gate'");
        else if (phase.kind == phase_kind::llm && phase.output.format != output_format::json)
            diag.add(doc.key_at(pointer + "/gate"), "phase '" + phase.id + "': gate: is for command phases and "
                                                                           "JSON phases (output: {format: json})");
        else
            read_gate(doc, *g, pointer + "/gate", phase, diag);
    }
}

void read_workflow_workspace(const yaml_document& doc, const json& root, workflow_spec& spec, diagnostics& diag)
{
    spec.git = get_bool(root, "git").value_or(false);
    if (const json* t = field(root, "test_command"); t && t->is_object())
        spec.test_command = read_command(doc, *t, "/test_command", "test_command", diag);
    for (const auto& phase : spec.phases)
        for (std::size_t i = 0; i < phase.tools.size(); ++i)
            if (phase.tools[i] == "run_tests" && !spec.test_command)
                diag.add(doc.at(child_pointer(child_pointer("/phases", phase.id) + "/tools", i)),
                         "phase '" + phase.id + "' offers run_tests but the workflow declares no test_command "
                                                "(add 'test_command: {run: [...]}' at the top level)");
}

}  // namespace ep::engine::detail
