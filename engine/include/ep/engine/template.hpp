#pragma once
// Prompt templates: `{{ inputs.NAME }}`, `{{ phases.ID.output }}`, `{{ phases.ID.json.a.b.0 }}`.
// `\{{` is a literal `{{`. Substituted values are inserted verbatim and never re-evaluated, so an
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
        input,         // {{ inputs.NAME }}
        phase_output,  // {{ phases.ID.output }}
        phase_json,    // {{ phases.ID.json.PATH }} (PATH may be empty: the whole JSON document)
    };
    kind_type kind = kind_type::input;
    std::string name;               // input name or phase id
    std::vector<std::string> path;  // phase_json only: object keys / array indices
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
        std::string output;                 // the phase's text output
        std::optional<nlohmann::json> json; // the parsed output of a `format: json` phase
    };
    std::map<std::string, std::string> inputs;  // input name -> its text (see input_value::text)
    std::map<std::string, phase_result> phases;  // phase id -> result
};

/// Renders `tpl`. JSON strings are inserted without quotes, other JSON values as compact JSON.
/// Errors: workflow_errc::render_failed when a reference has no value (unknown input, a phase
/// without a result, no JSON, or a JSON path that does not exist); `why` then says which.
boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string* why = nullptr);

}  // namespace ep::engine
