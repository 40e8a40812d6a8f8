#include <ep/engine/workflow.hpp>

namespace ep::engine {

std::string_view to_string(input_type t) noexcept
{
    switch (t)
    {
    case input_type::string: return "string";
    case input_type::number: return "number";
    case input_type::boolean: return "boolean";
    case input_type::file: return "file";
    }
    return "string";
}

retry_spec retry_spec::overlaid_with(const retry_spec& over) const
{
    retry_spec out = *this;
    if (over.max_attempts)
        out.max_attempts = over.max_attempts;
    if (over.backoff.initial)
        out.backoff.initial = over.backoff.initial;
    if (over.backoff.max)
        out.backoff.max = over.backoff.max;
    if (over.backoff.multiplier)
        out.backoff.multiplier = over.backoff.multiplier;
    return out;
}

const phase_spec* workflow_spec::find_phase(std::string_view id) const
{
    for (const auto& p : phases)
        if (p.id == id)
            return &p;
    return nullptr;
}

const input_spec* workflow_spec::find_input(std::string_view name) const
{
    for (const auto& i : inputs)
        if (i.name == name)
            return &i;
    return nullptr;
}

std::optional<std::size_t> workflow_spec::phase_index(std::string_view id) const
{
    for (std::size_t i = 0; i < phases.size(); ++i)
        if (phases[i].id == id)
            return i;
    return std::nullopt;
}

}  // namespace ep::engine
