#pragma once
// Attempts and events as the JSON arrays the one-statement writes take (statements.cpp:
// commit_phase, append_events): one parameter carries any number of rows. Text is cleaned for
// PostgreSQL (storable_text) before it goes in, so that reading it back out of the JSON (->>)
// never meets a NUL.

#include <ep/persistence/records.hpp>

#include <string>
#include <vector>

namespace ep::persistence::postgres {

/// [[run_id, phase_id, iteration, item, attempt, provider, model, outcome, error, http_status,
///   latency_ms, started_ms], …]; a zero `started` becomes `now`.
std::string attempts_json(const std::vector<attempt_record>& attempts, timestamp now);

/// [[ts_ms, type, payload], …]; a zero `ts` becomes `now`. The payload stays JSON inside the
/// array, stored exactly as dumped (\u0000 escapes included).
std::string events_json(const std::vector<event_record>& events, timestamp now);

}  // namespace ep::persistence::postgres
