#include "record_format.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::persistence::detail {

std::string run_label(const std::string& run_id)
{
    return "run '" + run_id + "'";
}

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

nlohmann::json parse_json(const std::string& text)
{
    return nlohmann::json::parse(text, nullptr, false);
}

std::optional<std::string> check_instance_key(int iteration, std::optional<int> item, const std::string& what)
{
    if (iteration >= 1 && (!item || *item >= 0))
        return std::nullopt;
    return what + ": iteration must be 1 or more and item 0 or more (got iteration " +
           std::to_string(iteration) + (item ? ", item " + std::to_string(*item) : std::string()) + ")";
}

std::optional<std::string>
check_checkpoint(const phase_record& p, const std::vector<attempt_record>& attempts, const std::string& what)
{
    if (p.run_id.empty() || p.phase_id.empty())
        return "commit_phase: the run id or phase id is empty";
    if (auto bad = check_instance_key(p.iteration, p.item, what))
        return bad;
    for (const auto& a : attempts)
        if (auto bad =
                check_instance_key(a.iteration, a.item, what + ", attempt " + std::to_string(a.attempt)))
            return bad;
    return std::nullopt;
}

std::optional<std::string> prepare_new_run(run_record& run, timestamp now)
{
    if (run.workflow.empty())
        return "create_run: the workflow name is empty";
    if (run.id.empty())
        run.id = new_run_id(now);
    if (run.definition_hash.empty())
        run.definition_hash = definition_hash(run.definition);
    run.created = now;
    run.updated = now;
    run.finished = is_finished(run.status) ? std::optional<timestamp>(now) : std::nullopt;
    run.heartbeat = run.owner.empty() ? std::nullopt : std::optional<timestamp>(now);
    run.totals = {};
    return std::nullopt;
}

}  // namespace ep::persistence::detail
