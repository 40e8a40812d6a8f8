#include <ep/engine/error.hpp>

#include <string>

namespace ep::engine {
namespace {

class workflow_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.workflow"; }
    std::string message(int ev) const override
    {
        switch (static_cast<workflow_errc>(ev))
        {
        case workflow_errc::step_failed: return "a phase failed";
        case workflow_errc::cycle_detected: return "the workflow's phases form a cycle";
        case workflow_errc::schema_violation: return "the file does not match its schema";
        case workflow_errc::cancelled: return "cancelled";
        case workflow_errc::invalid_workflow: return "invalid workflow";
        case workflow_errc::invalid_input: return "invalid input";
        case workflow_errc::invalid_config: return "invalid configuration";
        case workflow_errc::io_error: return "cannot read file";
        case workflow_errc::render_failed: return "template rendering failed";
        case workflow_errc::invalid_output: return "the output is not valid JSON for its schema";
        case workflow_errc::missing_context: return "no stored conversation to continue";
        case workflow_errc::checkpoint_failed: return "cannot save the phase result";
        case workflow_errc::internal_error: return "internal error";
        case workflow_errc::expression_failed: return "an expression failed";
        case workflow_errc::budget_exceeded: return "the budget would be exceeded";
        case workflow_errc::loop_exhausted: return "the loop reached max_iterations";
        case workflow_errc::approval_rejected: return "the approval was rejected";
        case workflow_errc::gate_timed_out: return "the approval gate timed out with no default";
        }
        return "unknown workflow error";
    }
};

}  // namespace

const boost::system::error_category& workflow_category() noexcept
{
    static const workflow_category_impl instance;
    return instance;
}

}  // namespace ep::engine
