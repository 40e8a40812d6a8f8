#pragma once
// routing_errc: why a phase got no answer when no provider error explains it.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace ep::engine {

enum class routing_errc
{
    no_candidates = 1,      // the candidate list was empty
    all_candidates_skipped, // every candidate was skipped (open circuits, windows too small…)
    deadline_exceeded,      // the phase's timeout passed before a candidate answered
};

const boost::system::error_category& routing_category() noexcept;

inline boost::system::error_code make_error_code(routing_errc e) noexcept
{
    return {static_cast<int>(e), routing_category()};
}

}  // namespace ep::engine

template <>
struct boost::system::is_error_code_enum<ep::engine::routing_errc> : std::true_type
{
};
