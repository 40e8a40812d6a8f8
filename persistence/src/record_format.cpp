#include "record_format.hpp"

namespace ep::persistence::detail {

std::string run_label(const std::string& run_id) { return "run '" + run_id + "'"; }

std::string phase_label(const std::string& run_id, const std::string& phase_id, int iteration,
                        std::optional<int> item)
{
    std::string out = "phase '" + phase_id + "'";
    if (iteration != 1 || item)
    {
        out += " (iteration " + std::to_string(iteration);
        if (item)
            out += ", item " + std::to_string(*item);
        out += ')';
    }
    return out + " of " + run_label(run_id);
}

std::string dump_json(const nlohmann::json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

std::optional<store_error> check_instance_key(int iteration, std::optional<int> item, const std::string& what)
{
    if (iteration >= 1 && (!item || *item >= 0))
        return std::nullopt;
    return store_error(make_error_code(persistence_errc::invalid_argument),
                       what + ": iteration must be 1 or more and item 0 or more (got iteration " +
                           std::to_string(iteration) + (item ? ", item " + std::to_string(*item) : std::string()) +
                           ")");
}

}  // namespace ep::persistence::detail
