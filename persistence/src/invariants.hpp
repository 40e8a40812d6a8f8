#pragma once
// What integrity_check verifies beyond the backend's own page/index checks: the store's
// invariants, as plain SQL both backends run. Each query yields rows of (run id, problem).

#include <array>

namespace ep::persistence::detail {

struct invariant_query
{
    const char* sql;
};

// LIMITs keep a badly damaged store's report short; the first problems are what matter.
inline constexpr std::array<invariant_query, 7> invariant_queries{{
    // The event log of a run is numbered 1..N without a gap (readers page by seq).
    {"SELECT run_id, 'its events are numbered ' || CAST(MIN(seq) AS TEXT) || '..'"
     " || CAST(MAX(seq) AS TEXT) || ' but there are ' || CAST(COUNT(*) AS TEXT) FROM events GROUP BY run_id"
     " HAVING MIN(seq) <> 1 OR MAX(seq) <> COUNT(*) LIMIT 10"},
    // A completed phase's checkpoint always sets its finish time.
    {"SELECT run_id, 'phase ''' || phase_id || ''' is completed without a finish time' FROM phases"
     " WHERE status = 'completed' AND finished_ms IS NULL LIMIT 10"},
    // A stopped run has a finish time; a running one does not.
    {"SELECT id, 'the run is ' || status || ' without a finish time' FROM runs"
     " WHERE status IN ('completed', 'failed', 'interrupted') AND finished_ms IS NULL LIMIT 10"},
    // Nobody owns a run that waits at a gate (set_run_status frees the lease).
    {"SELECT id, 'it is waiting but leased to ' || owner FROM runs"
     " WHERE status = 'waiting' AND owner IS NOT NULL LIMIT 10"},
    // A lease holder always has a heartbeat.
    {"SELECT id, 'its lease holder has no heartbeat' FROM runs"
     " WHERE owner IS NOT NULL AND heartbeat_ms IS NULL LIMIT 10"},
    // Nothing belongs to a run that does not exist (foreign keys enforce it; a store written
    // with them off would not).
    {"SELECT DISTINCT p.run_id, 'phases of a run that does not exist' FROM phases p"
     " WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = p.run_id) LIMIT 10"},
    {"SELECT DISTINCT e.run_id, 'events of a run that does not exist' FROM events e"
     " WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = e.run_id) LIMIT 10"},
}};

}  // namespace ep::persistence::detail
