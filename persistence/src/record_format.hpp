#pragma once
// What every backend writes the same way: labels for messages, JSON as stored text, and the
// column form of a phase instance's key.

#include <ep/persistence/error.hpp>
#include <ep/persistence/records.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ep::persistence::detail {

/// "run 'ID'" for messages (ids are ours, never secrets).
std::string run_label(const std::string& run_id);

/// "phase 'P' of run 'R'", with " (iteration I, item N)" for an instance other than the first
/// pass of the phase itself.
std::string phase_label(const std::string& run_id, const std::string& phase_id, int iteration = 1,
                        std::optional<int> item = std::nullopt);

/// JSON as stored text. `replace`: invalid UTF-8 in model output must not throw out of the store.
std::string dump_json(const nlohmann::json& j);

/// Stored text back to JSON; a hand-edited bad value degrades to a discarded value rather than
/// failing the read.
nlohmann::json parse_json(const std::string& text);

/// The `item` column: -1 for the phase itself (no fan-out item), so that it can be part of a
/// primary key (NOT NULL).
inline constexpr int no_item = -1;
inline std::int64_t item_column(std::optional<int> item)
{
    return item ? *item : no_item;
}
inline std::optional<int> item_from_column(std::int64_t v)
{
    return v < 0 ? std::nullopt : std::optional<int>(static_cast<int>(v));
}

/// Why (`what`: …) an instance key cannot be stored: an iteration below 1 or a negative item.
std::optional<std::string> check_instance_key(int iteration, std::optional<int> item,
                                              const std::string& what);

/// Why a checkpoint cannot be stored: empty ids, or a bad instance key of the phase or of one
/// of its attempts. Backends report it as invalid_argument.
std::optional<std::string>
check_checkpoint(const phase_record& p, const std::vector<attempt_record>& attempts, const std::string& what);

/// create_run's defaults, alike on every backend: a generated id, the definition's hash,
/// created = updated = now, finished if created stopped, the heartbeat if created leased, no
/// totals. Why the run cannot be stored (an empty workflow), or nullopt.
std::optional<std::string> prepare_new_run(run_record& run, timestamp now);

}  // namespace ep::persistence::detail
