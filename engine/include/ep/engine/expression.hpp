#pragma once
// Workflow expressions (`when`, `repeat.until`, `for_each`): jq programs, run by libjq over the
// run document
//
//   {inputs, phases: {ID: {status, output, json, exit_code, iteration, outputs}},
//    iteration, item, index}
//
// A sans-I/O core like the decoders: data in, value out. Every expression of a workflow is
// compiled once, at load, into one jq program (libjq 1.6 spends most of a compile binding its
// builtins, so one program for the whole workflow pays that once), and evaluated against a
// JSON document with no I/O.
//
// Bounds: the builtins that read input, the environment, files or modules, or write to stderr
// (`input`, `inputs`, `$ENV`, `env`, `debug`, `stderr`, `input_filename`, `input_line_number`,
// `import`, `include`, `halt`, `halt_error`, `get_search_list`) are refused at load, and so are
// the constructs that can loop without end (`def` — recursion — `recurse` with arguments,
// `repeat`, `while`, `until`, `range`, `limit`-free generators over them). What is left
// terminates in time bounded by the size of the run document; evaluation also stops at the first
// output (only one value is used) and refuses a document over max_document_bytes.

#include <ep/engine/diagnostics.hpp>

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ep::engine {

/// One expression as written in the workflow: its text and where the text starts.
struct expression_source
{
    std::string text;
    source_location where;   // the first character of the YAML scalar holding it
    std::string role;        // "when", "repeat.until", "for_each" (for messages)
};

/// The outcome of one evaluation.
struct expression_value
{
    nlohmann::json value;  // the program's first output (null when it produced none)
    bool produced = false; // false: the program produced no output at all
};

/// The compiled expressions of one workflow. Copies share the program. Not thread safe:
/// evaluate from one thread at a time (the executor is strand-confined).
class expression_program
{
public:
    expression_program() = default;

    /// Checks every source (forbidden builtins, unbounded constructs, jq syntax) and compiles
    /// them together. Each problem goes to `diag` located inside the YAML string (line and column
    /// within the expression mapped through `locate`). Returns a program whose expression `i` is
    /// sources[i]; an empty program when `sources` is empty (no libjq cost at all); nullopt when
    /// any source is invalid.
    using locator = std::function<source_location(const expression_source&, std::size_t offset)>;
    static std::optional<expression_program> compile(const std::vector<expression_source>& sources,
                                                     diagnostics& diag, const locator& locate);

    /// Runs expression `index` over `document`. Errors: workflow_errc::expression_failed with
    /// `why` set (a jq runtime error, a document too large).
    boost::system::result<expression_value> evaluate(std::size_t index, const nlohmann::json& document,
                                                     std::string* why = nullptr) const;

    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }

    /// The document size above which evaluation is refused.
    static constexpr std::size_t max_document_bytes = 64u << 20;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

/// The words that make an expression unsafe, found outside string literals, with their
/// offsets: each is "forbidden: NAME (why)". Pure; used by compile().
std::vector<std::pair<std::size_t, std::string>> find_forbidden_words(const std::string& text);

/// jq truthiness: everything but false and null.
inline bool is_truthy(const nlohmann::json& v) { return !(v.is_null() || (v.is_boolean() && !v.get<bool>())); }

}  // namespace ep::engine
