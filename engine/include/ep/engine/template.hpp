#pragma once
// Prompt templates: `{{ inputs.NAME }}`, `{{ phases.ID.output }}`, `{{ phases.ID.json.a.b.0 }}`,
// `{{ phases.ID.outputs }}` (a fan-out's outputs, as a JSON array), and inside loops and fan-outs
// `{{ previous.ID.output }}`, `{{ previous.ID.json.PATH }}`, `{{ loop.iteration }}`, `{{ item }}`,
// `{{ item.PATH }}`, `{{ index }}`. `\{{` is a literal `{{`. Substituted values are inserted verbatim and never re-evaluated, so an
// upstream output that itself contains `{{ … }}` is harmless.

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

/// One `{{ … }}` expression.
struct template_ref
{
    enum class kind_type
    {
        input,            // {{ inputs.NAME }}
        phase_output,     // {{ phases.ID.output }}
        phase_json,       // {{ phases.ID.json.PATH }} (PATH may be empty: the whole JSON document)
        phase_outputs,    // {{ phases.ID.outputs }} (a for_each phase: its items' outputs, JSON array)
        previous_output,  // {{ previous.ID.output }} (the previous loop iteration; empty on the first)
        previous_json,    // {{ previous.ID.json.PATH }}
        loop_iteration,   // {{ loop.iteration }} (1-based)
        item,             // {{ item }} / {{ item.PATH }} (a for_each phase's item)
        index,            // {{ index }} (a for_each phase's item index, 0-based)
    };
    kind_type kind = kind_type::input;
    std::string name;               // input name or phase id (empty for loop/item/index)
    std::vector<std::string> path;  // phase_json, previous_json, item: object keys / array indices
    std::size_t offset = 0;         // byte offset of "{{" in the template text
    std::string text;               // the expression as written, "{{ … }}"
};

/// A template split into literal text and references.
struct parsed_template
{
    struct piece
    {
        std::string literal;              // used when `ref` is empty
        std::optional<template_ref> ref;  // an expression
    };
    std::vector<piece> pieces;

    std::vector<template_ref> refs() const;
    bool empty() const noexcept { return pieces.empty(); }
};

/// A syntax error at `offset` (byte offset in the template text).
struct template_error
{
    std::size_t offset = 0;
    std::string message;
};

/// Parses `text`; syntax errors are appended to `errors` (all of them) and the bad expressions
/// are dropped from the result. Never throws on any input.
parsed_template parse_template(std::string_view text, std::vector<template_error>& errors);

/// What a template may refer to at render time.
struct render_context
{
    struct phase_result
    {
        phase_result() = default;
        phase_result(std::string text, std::optional<nlohmann::json> parsed = std::nullopt)
            : output(std::move(text)), json(std::move(parsed))
        {
        }

        std::string output;                 // the phase's text output
        std::optional<nlohmann::json> json; // the parsed output of a `format: json` phase
        /// A skipped phase: every reference to it renders as an empty string.
        bool skipped = false;
        /// A for_each phase: its items' outputs in item order (`{{ phases.ID.outputs }}`).
        std::optional<nlohmann::json> outputs;
    };
    std::map<std::string, std::string> inputs;  // input name -> its text (see input_value::text)
    std::map<std::string, phase_result> phases;  // phase id -> result (its latest instance)
    /// The previous iteration's results of phases in the same loop; a phase missing here (the
    /// first iteration) renders `previous.ID.…` as an empty string.
    std::map<std::string, phase_result> previous;
    std::optional<int> loop_iteration;     // inside a loop body
    std::optional<nlohmann::json> item;    // inside a for_each instance
    std::optional<std::size_t> index;
};

/// Renders `tpl`. JSON strings are inserted without quotes, other JSON values as compact JSON.
/// Errors: workflow_errc::render_failed when a reference has no value (unknown input, a phase
/// without a result, no JSON, or a JSON path that does not exist); `why` then says which.
boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string* why = nullptr);

/// As render_template, but each substituted value goes through `escape` (the literal text is
/// kept as written): shell_quote for a command phase's `shell: true` script.
boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string (*escape)(std::string_view), std::string* why);

/// `value` as one /bin/sh word that the shell takes literally: in single quotes, each `'`
/// written as `'\''`. No value can end the quoting, so none can add shell syntax.
std::string shell_quote(std::string_view value);

}  // namespace ep::engine
