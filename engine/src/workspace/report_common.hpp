#pragma once
// What the JUnit and JSON reports share: instance keys, durations, attempt lookup, timestamps.

#include <ep/engine/routing/cost.hpp>
#include <ep/engine/workspace/report.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ep::engine::detail {

using instance_key = std::tuple<std::string, int, int>;  // phase, iteration, item (-1: none)

inline instance_key key_of(const std::string& phase, int iteration, const std::optional<int>& item)
{
    return {phase, iteration, item.value_or(-1)};
}

/// The attempts of each instance, in attempt order.
std::map<instance_key, std::vector<const persistence::attempt_record*>> attempts_by_instance(
    const report_input& in);

/// finished − started, or 0 when either is unknown.
std::chrono::milliseconds instance_duration(const persistence::phase_record& p);

/// ISO 8601 UTC with milliseconds: 2026-01-02T03:04:05.678Z.
std::string iso8601(persistence::timestamp t);

/// The command phase's exit code from its `json` ({exit_code, …}), if it is a command phase.
std::optional<int> command_exit_code(const report_input& in, const persistence::phase_record& p);

}  // namespace ep::engine::detail
