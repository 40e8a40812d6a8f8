#include "workspace/report_common.hpp"

#include <algorithm>
#include <ctime>

namespace ep::engine::detail {

std::map<instance_key, std::vector<const persistence::attempt_record*>> attempts_by_instance(const report_input& in)
{
    std::map<instance_key, std::vector<const persistence::attempt_record*>> out;
    for (const auto& a : in.attempts)
        out[key_of(a.phase_id, a.iteration, a.item)].push_back(&a);
    for (auto& [key, list] : out)
        std::sort(list.begin(), list.end(), [](const auto* x, const auto* y) { return x->attempt < y->attempt; });
    return out;
}

std::chrono::milliseconds instance_duration(const persistence::phase_record& p)
{
    if (!p.started || !p.finished || *p.finished < *p.started)
        return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*p.finished - *p.started);
}

std::string iso8601(persistence::timestamp t)
{
    const auto ms = t.time_since_epoch().count();
    const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm utc{};
    ::gmtime_r(&secs, &utc);
    char buf[96];  // room for any int the compiler thinks tm fields may hold
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(((ms % 1000) + 1000) % 1000));
    return buf;
}

std::optional<int> command_exit_code(const report_input& in, const persistence::phase_record& p)
{
    if (!in.command_phases.count(p.phase_id) || !p.output_json || !p.output_json->is_object())
        return std::nullopt;
    const auto it = p.output_json->find("exit_code");
    if (it == p.output_json->end() || !it->is_number_integer())
        return std::nullopt;
    return it->get<int>();
}

}  // namespace ep::engine::detail

namespace ep::engine {

std::string instance_name(const std::string& phase, int iteration, const std::optional<int>& item)
{
    std::string name = phase;
    if (iteration > 1)
        name += " #" + std::to_string(iteration);
    if (item)
        name += "[" + std::to_string(*item) + "]";
    return name;
}

}  // namespace ep::engine
