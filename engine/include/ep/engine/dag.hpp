#pragma once
// Compiling a workflow into a DAG: checks `needs` (unknown, self, cycles with their path),
// personas (against a policy), template references (unknown inputs/phases, phases that are not
// upstream, `previous.`/`loop.`/`item` outside a loop or fan-out), context phases, loops
// (`repeat.from` an ancestor, bodies that nest); computes topological levels (what may run in
// parallel) and each loop's body.

#include <ep/engine/diagnostics.hpp>
#include <ep/engine/workflow.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

namespace detail { struct compile_state; }

struct policy;

/// A `repeat:` loop: `owner` carries the repeat, `from` is where each iteration starts, and the
/// body is every phase on a path from `from` to `owner` (both included).
struct loop_info
{
    std::size_t owner = 0;
    std::size_t from = 0;
    std::vector<bool> body;             // body[phase]
    std::optional<std::size_t> parent;  // the innermost loop whose body contains this one's
};

/// Phase indices are those of workflow_spec::phases. Immutable once built; safe to share.
class dag
{
public:
    std::size_t size() const noexcept { return ids_.size(); }
    const std::string& id(std::size_t phase) const { return ids_.at(phase); }
    std::optional<std::size_t> index_of(std::string_view id) const;

    /// Direct dependencies (the phase's `needs`), in the order written.
    const std::vector<std::size_t>& needs(std::size_t phase) const { return needs_.at(phase); }
    /// Phases that directly need `phase`, in document order.
    const std::vector<std::size_t>& dependents(std::size_t phase) const { return dependents_.at(phase); }
    /// levels()[0] are the roots; a phase's level is 1 + the highest level it needs. Phases
    /// within a level are in document order and may run in parallel.
    const std::vector<std::vector<std::size_t>>& levels() const noexcept { return levels_; }
    std::size_t level_of(std::size_t phase) const { return level_of_.at(phase); }
    /// All phases, level by level (a valid run order).
    const std::vector<std::size_t>& order() const noexcept { return order_; }
    /// True if `phase` (transitively) needs `upstream`.
    bool is_upstream(std::size_t upstream, std::size_t phase) const;

    /// The loops, inner ones before the loops containing them.
    const std::vector<loop_info>& loops() const noexcept { return loops_; }
    /// The innermost loop whose body holds `phase`, if any.
    std::optional<std::size_t> innermost_loop(std::size_t phase) const { return innermost_.at(phase); }
    /// The loop `owner` carries, if it has a `repeat:`.
    std::optional<std::size_t> loop_of_owner(std::size_t owner) const;
    /// Whether loop `loop`'s body holds `phase`.
    bool in_loop(std::size_t loop, std::size_t phase) const { return loops_.at(loop).body.at(phase); }

private:
    friend struct detail::compile_state;  // compile()'s passes build it
    std::vector<std::string> ids_;
    std::vector<std::vector<std::size_t>> needs_;
    std::vector<std::vector<std::size_t>> dependents_;
    std::vector<std::vector<std::size_t>> levels_;
    std::vector<std::size_t> level_of_;
    std::vector<std::size_t> order_;
    std::vector<std::vector<bool>> upstream_;  // upstream_[phase][other]
    std::vector<loop_info> loops_;
    std::vector<std::optional<std::size_t>> innermost_;  // per phase
};

/// Compiles `spec`. With `personas` non-null, unknown personas (after inline merging) are
/// errors. Every problem goes to `diag`; errors: workflow_errc::cycle_detected when the only
/// problems are cycles, else workflow_errc::invalid_workflow.
boost::system::result<dag> compile(const workflow_spec& spec, const policy* personas, diagnostics& diag);

}  // namespace ep::engine
