#include <ep/engine/routing/routing_error.hpp>

#include <string>

namespace ep::engine {

namespace {

class routing_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.routing"; }
    std::string message(int ev) const override
    {
        switch (static_cast<routing_errc>(ev))
        {
        case routing_errc::no_candidates: return "no provider candidate for this phase";
        case routing_errc::all_candidates_skipped: return "every candidate was skipped (open circuits or too small)";
        case routing_errc::deadline_exceeded: return "the phase timed out";
        }
        return "unknown routing error";
    }
};

}  // namespace

const boost::system::error_category& routing_category() noexcept
{
    static const routing_category_impl instance;
    return instance;
}

}  // namespace ep::engine
