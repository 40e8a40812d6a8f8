#pragma once
// The typed model of a workflow file (schemas/workflow.schema.json). Produced by load_workflow_*
// (loader.hpp); every element keeps where it was written so later stages report FILE:LINE:COL.

#include <ep/engine/diagnostics.hpp>
#include <ep/engine/expression.hpp>
#include <ep/engine/template.hpp>
#include <ep/providers/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

namespace detail { class yaml_document; }

/// A value together with where it was written.
template <class T>
struct located
{
    T value{};
    source_location where;
};

enum class input_type { string, number, boolean, file };
std::string_view to_string(input_type t) noexcept;

struct input_spec
{
    std::string name;
    input_type type = input_type::string;
    bool required = true;                  // false when a default is given, unless stated
    std::optional<nlohmann::json> default_value;  // string, number or boolean
    std::string description;
    source_location where;
};

/// `retry:` as written (on a phase, or in `defaults:`). Only what the workflow states is set;
/// the rest comes from the failover layer's defaults (retry_policy), so there is one source of
/// default values.
struct backoff_spec
{
    std::optional<std::chrono::milliseconds> initial;
    std::optional<std::chrono::milliseconds> max;
    std::optional<double> multiplier;
};

struct retry_spec
{
    std::optional<int> max_attempts;  // attempts per (provider, model), the first one included
    backoff_spec backoff;

    /// This spec with every field `over` sets replaced by it (a phase's retry over `defaults:`).
    retry_spec overlaid_with(const retry_spec& over) const;
};

enum class output_format { text, json };

struct output_spec
{
    output_format format = output_format::text;
    std::optional<nlohmann::json> schema;  // JSON Schema for format json
    source_location where;
};

/// `reasoning: {effort: low|medium|high}`: how hard a reasoning model thinks. The providers
/// module's own type (chat_request::reasoning), so a phase's value goes to the request as is
/// and each adapter maps it to its provider's control (OpenAI reasoning_effort, Anthropic
/// effort, Gemini thinking level).
using reasoning_effort = ep::providers::reasoning_effort;
using ep::providers::parse_reasoning_effort;

/// `on_content_filter`: what a provider's content-filter refusal does to the phase - `fail`
/// reports it as the phase's error (the default), `fallback` tries the next candidate and says
/// so in the event log.
enum class content_filter_action { fail, fallback };
std::string_view to_string(content_filter_action a) noexcept;
std::optional<content_filter_action> parse_content_filter_action(std::string_view text) noexcept;

struct context_spec
{
    /// Upstream phases whose outputs are given to the phase as context messages.
    std::vector<located<std::string>> phases;
    /// Upstream phase whose conversation (its messages and answer) this phase continues.
    std::optional<located<std::string>> continue_phase;
};

/// `budget:` of the run or of a phase.
struct budget_spec
{
    std::optional<double> max_cost_usd;
    std::optional<std::int64_t> max_tokens;
    source_location where;
};

/// `repeat:` on a phase P: the body (every phase on a path from `from` to P) runs again until
/// `until` holds, at most max_iterations times.
struct repeat_spec
{
    located<std::string> from;
    located<std::string> until;       // the expression text
    std::size_t until_expr = 0;       // its index in workflow_spec::expressions
    int max_iterations = 1;
    bool fail_when_exhausted = true;  // on_exhausted: fail (default) | continue
    source_location where;
};

/// `for_each:` on a phase: one instance per item of the array the expression yields.
struct for_each_spec
{
    located<std::string> expression;
    std::size_t expr = 0;       // index in workflow_spec::expressions
    int max_parallel = 4;
};

/// Items one for_each may expand to.
inline constexpr std::size_t max_for_each_items = 10'000;

/// `approval:` makes a phase a gate: the run waits for `ep-run --approve|--reject`.
struct approval_spec
{
    std::string prompt;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<bool> default_approve;  // default: approve | reject; nullopt: none (the gate fails)
    source_location where;
};

enum class phase_kind { llm, approval, command };

/// A command as a workflow writes it (a command phase's `run:` and its keys, or the top-level
/// `test_command:`). Converted to a workspace command_spec when it runs.
struct command_decl
{
    std::vector<std::string> argv;  // `run: [..]`
    std::string script;             // `run: "..."` with shell: true
    bool shell = false;
    std::string cwd = ".";
    std::map<std::string, std::string> env;
    std::optional<std::chrono::milliseconds> timeout;
    bool network = false;
    source_location where;  // the `run:` key
    /// A command phase's `run:` as templates (the prompts' `{{ … }}` language), rendered when the
    /// instance runs: one per `argv` element, or the script's (each substituted value then
    /// quoted as one shell word). Empty for `test_command:`, which runs as written.
    struct templated
    {
        located<std::string> text;
        parsed_template tpl;
    };
    std::vector<templated> argv_templates;
    std::optional<templated> script_template;
};

/// `gate:` on a command or JSON phase (see workspace/gate.hpp for the semantics).
struct gate_decl
{
    std::optional<double> min_pass_rate;
    std::optional<std::chrono::milliseconds> max_duration;
    std::optional<double> max_cost_usd;
    source_location where;
};

struct phase_spec
{
    std::string id;
    source_location where;  // the phase id key
    std::string description;
    located<std::string> persona;  // after defaults; value empty if none was given anywhere
    located<std::string> prompt;
    parsed_template prompt_template;
    std::optional<located<std::string>> system;
    std::optional<parsed_template> system_template;
    std::vector<located<std::string>> needs;
    context_spec context;
    output_spec output;
    std::optional<std::string> model;  // "model" or "provider/model"
    std::optional<int> max_tokens;
    std::optional<double> temperature;
    std::optional<std::chrono::milliseconds> timeout;
    /// `first_token_timeout:` (or the defaults'): request sent -> first content of each call;
    /// nullopt: the provider's timeouts.first_token.
    std::optional<std::chrono::milliseconds> first_token_timeout;
    std::optional<retry_spec> retry;  // the phase's `retry:` over `defaults: retry:`; nullopt: neither
    source_location model_where;  // where `model:` was written (the phase's or defaults'), if it was
    // Request features, after `defaults:`; nullopt: not set here (the persona's value, then the
    // provider's default, apply - see resolve_request_features in policy.hpp).
    std::optional<reasoning_effort> reasoning;
    std::optional<bool> cache;
    std::optional<content_filter_action> on_content_filter;

    // Control flow (DESIGN.md "Workflow language, control flow and workspace").
    phase_kind kind = phase_kind::llm;
    std::optional<located<std::string>> when;  // the expression text
    std::size_t when_expr = 0;                  // its index in workflow_spec::expressions
    bool needs_any = false;
    std::optional<repeat_spec> repeat;
    std::optional<for_each_spec> for_each;
    std::optional<approval_spec> approval;
    std::optional<budget_spec> budget;

    // Workspace (DESIGN.md; README "Workspace, commands and git").
    bool files = false;                  // `files: true`: fenced files of the answer are written
    std::optional<command_decl> command; // kind == command
    bool allow_failure = false;
    std::vector<std::string> tools;      // engine tools offered to the model
    int max_tool_rounds = 20;
    std::optional<gate_decl> gate;
};

/// `defaults:` for every phase (a phase's own value wins).
struct phase_defaults
{
    std::optional<located<std::string>> persona;
    std::optional<std::string> system;
    std::optional<std::string> model;
    std::optional<int> max_tokens;
    std::optional<double> temperature;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::chrono::milliseconds> first_token_timeout;
    std::optional<retry_spec> retry;
    std::optional<reasoning_effort> reasoning;
    std::optional<bool> cache;
    std::optional<content_filter_action> on_content_filter;
};

struct workflow_spec
{
    std::string name;
    std::string description;
    std::string version;
    std::filesystem::path source;  // the file it was loaded from (or the display name)
    std::vector<input_spec> inputs;  // in document order
    phase_defaults defaults;
    std::vector<phase_spec> phases;  // in document order
    std::optional<budget_spec> budget;  // the run's `budget:`
    bool git = false;                    // `git: true`: a commit per phase instance that changed files
    std::optional<command_decl> test_command;  // what the run_tests tool runs

    /// Every `when`, `repeat.until` and `for_each` of the workflow, compiled together at load
    /// (phase_spec and repeat/for_each specs hold their indices).
    expression_program expressions;

    /// The parsed file, kept for the inline `personas:`/`providers:` sections (policy.hpp
    /// merges them) and for locating errors. Opaque outside the engine.
    std::shared_ptr<const detail::yaml_document> document;
    bool has_inline_personas = false;
    bool has_inline_providers = false;

    const phase_spec* find_phase(std::string_view id) const;
    const input_spec* find_input(std::string_view name) const;
    std::optional<std::size_t> phase_index(std::string_view id) const;
};

}  // namespace ep::engine
