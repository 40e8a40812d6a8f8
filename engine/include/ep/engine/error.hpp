#pragma once
// The engine's error category (STYLE.md §5). Details travel in `diagnostics`, not in the code.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace ep::engine {

enum class workflow_errc
{
    step_failed = 1,   // a phase failed after its retries and fallbacks
    cycle_detected,    // the phases' `needs` form a cycle
    schema_violation,  // a YAML file does not satisfy its JSON Schema
    cancelled,         // the run was cancelled (SIGINT, API)
    invalid_workflow,  // syntax or semantic errors (see the diagnostics)
    invalid_input,     // --input/--input-file problems
    invalid_config,    // personas/capabilities/mix problems
    io_error,          // a file could not be read
    render_failed,     // a template reference has no value at render time
    invalid_output,    // a JSON output stayed invalid after the one repair attempt
    missing_context,   // `context: {continue: X}` names a phase with no stored conversation
    checkpoint_failed, // the store refused the phase's result (disk full, I/O error)
    internal_error,    // a bug inside the phase runner (an exception)
    expression_failed, // a `when`/`until`/`for_each` expression raised an error or gave the wrong type
    budget_exceeded,   // a call could exceed the run's or the phase's budget; it was not made
    loop_exhausted,    // a `repeat` reached max_iterations without `until` (on_exhausted: fail)
    approval_rejected, // unused by gates (a rejection completes them); reserved for API callers
    gate_timed_out,    // an approval gate passed its timeout with no default
};

const boost::system::error_category& workflow_category() noexcept;

inline boost::system::error_code make_error_code(workflow_errc e) noexcept
{
    return {static_cast<int>(e), workflow_category()};
}

}  // namespace ep::engine

template <>
struct boost::system::is_error_code_enum<ep::engine::workflow_errc> : std::true_type
{
};
