#include <ep/runtime/runtime.hpp>

namespace ep::runtime {

namespace {

class runtime_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.runtime"; }
    std::string message(int ev) const override
    {
        switch (static_cast<runtime_errc>(ev))
        {
        case runtime_errc::invalid_workflow: return "invalid workflow";
        case runtime_errc::invalid_input: return "invalid input";
        case runtime_errc::unroutable: return "a persona cannot be routed to any provider";
        case runtime_errc::invalid_provider: return "a provider configuration cannot be used";
        case runtime_errc::unknown_run: return "unknown run id";
        case runtime_errc::lease_held: return "the run is being executed by another live process";
        case runtime_errc::already_completed: return "the run already completed";
        case runtime_errc::not_waiting: return "the phase is not waiting for an approval";
        case runtime_errc::unknown_phase: return "the run has no such phase";
        case runtime_errc::store_unusable: return "the run store cannot be used";
        case runtime_errc::store_failed: return "the run store failed";
        case runtime_errc::unknown_model: return "unknown model";
        }
        return "unknown runtime error";
    }
};

}  // namespace

const boost::system::error_category& runtime_category() noexcept
{
    static const runtime_category_impl instance;
    return instance;
}

std::string problems::str() const
{
    std::string out = diag.str();
    for (const auto& e : input_errors)
        out += e + "\n";
    return out;
}

}  // namespace ep::runtime
