// The SQL of postgres_store, in one place. Times are bigint ms since the Unix epoch; JSON is
// text (kept exactly as written, like SQLite); a phase instance's item is -1 for "no item".

#include "postgres/statements.hpp"

#include "postgres/store_impl.hpp"

#include <array>

namespace ep::persistence::postgres {

namespace {

// A run with its totals (every phase instance), computed beside the row.
#define EP_PG_RUN_COLUMNS                                                                           \
    "r.id, r.workflow, r.definition, r.definition_hash, r.inputs, r.mix, r.status, r.error, "     \
    "r.owner, r.heartbeat_ms, r.created_ms, r.updated_ms, r.finished_ms, t.input_tokens, "        \
    "t.output_tokens, t.cost_usd, t.completed, t.failed, r.options, r.parent_run_id, r.parent_phase, "  \
    "t.unpriced"
#define EP_PG_TOTALS                                                                                \
    " CROSS JOIN LATERAL (SELECT COALESCE(SUM(p.input_tokens), 0)::bigint AS input_tokens,"        \
    " COALESCE(SUM(p.output_tokens), 0)::bigint AS output_tokens,"                                  \
    " COALESCE(SUM(p.cost_usd), 0)::float8 AS cost_usd,"                                            \
    " COUNT(*) FILTER (WHERE p.status = 'completed') AS completed,"                                 \
    " COUNT(*) FILTER (WHERE p.status = 'failed') AS failed,"                                       \
    " COUNT(*) FILTER (WHERE p.cost_usd IS NULL) AS unpriced FROM phases p WHERE p.run_id = r.id) t"
#define EP_PG_PHASE_COLUMNS                                                                         \
    "run_id, phase_id, iteration, item, status, output_text, output_json, provider, model, "      \
    "input_tokens, output_tokens, cost_usd, started_ms, finished_ms, error, attempts"
#define EP_PG_ATTEMPT_COLUMNS                                                                       \
    "run_id, phase_id, iteration, item, attempt, provider, model, outcome, error, http_status, "  \
    "latency_ms, started_ms"

// "$n is the fence this connection holds for the run, or NULL (it holds no lease on it)".
#define EP_PG_FENCED(param) "(" param "::bigint IS NULL OR fence = " param "::bigint)"
// Wakes idle ep-workers when the run `id_sql` may be claimed. The channel is per schema (NOTIFY
// is database-wide; stores in other schemas of the database must not wake these workers): see
// run_queue.cpp's runnable_channel_sql.
#define EP_PG_NOTIFY_RUNNABLE(id_sql) "pg_notify('ep_runnable_' || left(md5(current_schema()), 16), " id_sql ")"

constexpr std::array<prepared_statement, 24> statements{{
    // ---- runs ----
    // A run created leased starts at fence 1; one created pending and free wakes the workers.
    {"create_run",
     "WITH ins AS (INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, error,"
     " owner, heartbeat_ms, created_ms, updated_ms, finished_ms, options, parent_run_id, parent_phase, fence)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
     " CASE WHEN $9::text IS NULL THEN NULL ELSE " EP_PG_NOW("$10") " END,"
     " $11, $11, $12, $13, $14, $15, CASE WHEN $9::text IS NULL THEN 0 ELSE 1 END)"
     " RETURNING id, heartbeat_ms, fence, owner, status)"
     " SELECT heartbeat_ms, fence, (SELECT COUNT(*) FROM (SELECT " EP_PG_NOTIFY_RUNNABLE("w.id")
     " FROM ins w WHERE w.owner IS NULL AND w.status = 'pending') n) FROM ins"},
    {"get_run", "SELECT " EP_PG_RUN_COLUMNS " FROM runs r" EP_PG_TOTALS " WHERE r.id = $1"},
    // $1 status or NULL, $2 workflow or '', $3 limit, $4 cursor id or ''. The cursor is the
    // position of run $4 in the list order, or for an unknown id a bound on the ids.
    {"list_runs",
     "SELECT " EP_PG_RUN_COLUMNS " FROM (SELECT * FROM runs"
     " WHERE ($1::text IS NULL OR status = $1) AND ($2 = '' OR workflow = $2)"
     " AND ($4 = ''"
     "      OR (created_ms, created_seq) < (SELECT c.created_ms, c.created_seq FROM runs c WHERE c.id = $4)"
     "      OR (id COLLATE \"C\" < $4 AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.id = $4)))"
     " ORDER BY created_ms DESC, created_seq DESC LIMIT $3) r" EP_PG_TOTALS
     " ORDER BY r.created_ms DESC, r.created_seq DESC"},
    // Entering `waiting` frees the lease in the same write: nobody owns a run at a gate.
    {"set_run_status",
     "UPDATE runs SET status = $2, error = $3, updated_ms = $4, finished_ms = $5,"
     " owner = CASE WHEN $2 = 'waiting' THEN NULL ELSE owner END,"
     " heartbeat_ms = CASE WHEN $2 = 'waiting' THEN NULL ELSE heartbeat_ms END"
     " WHERE id = $1 AND " EP_PG_FENCED("$6")},
    {"set_run_mix", "UPDATE runs SET mix = $2, updated_ms = $3 WHERE id = $1"},
    {"set_run_options", "UPDATE runs SET options = $2, updated_ms = $3 WHERE id = $1"},
    // ---- lease: $3 is the injected clock or NULL (the server's clock) ----
    // Every take-over raises the fence (RETURNING it: the token the new holder's writes carry).
    {"acquire_lease",
     "UPDATE runs SET owner = $2, heartbeat_ms = n.ms, updated_ms = n.ms, fence = fence + 1"
     " FROM (SELECT " EP_PG_NOW("$3") " AS ms) n"
     " WHERE id = $1 AND (owner IS NULL OR owner = $2 OR heartbeat_ms IS NULL OR heartbeat_ms < n.ms - $4)"
     " RETURNING id, fence"},
    {"lease_holder", "SELECT owner, heartbeat_ms, " EP_PG_NOW("$2") " FROM runs WHERE id = $1"},
    {"renew_lease",
     "UPDATE runs SET heartbeat_ms = " EP_PG_NOW("$3") " WHERE id = $1 AND owner = $2 AND " EP_PG_FENCED("$4")},
    // Returns (rows freed, notified): a run freed before it finished wakes the workers.
    {"release_lease",
     "WITH r AS (UPDATE runs SET owner = NULL, heartbeat_ms = NULL WHERE id = $1 AND owner = $2 AND "
     EP_PG_FENCED("$3") " RETURNING id, status)"
     " SELECT (SELECT COUNT(*) FROM r), (SELECT COUNT(*) FROM (SELECT " EP_PG_NOTIFY_RUNNABLE("r.id")
     " FROM r WHERE r.status IN ('pending', 'running')) n)"},
    {"run_exists", "SELECT 1 FROM runs WHERE id = $1"},
    {"fence_is", "SELECT 1 FROM runs WHERE id = $1 AND fence = $2"},
    // ---- phase instances: "completed is final" is the upserts' WHERE ----
    {"begin_phase",
     "INSERT INTO phases (run_id, phase_id, iteration, item, status, started_ms)"
     " SELECT $1::text, $2::text, $3::integer, $4::integer, 'running', $5::bigint"
     " WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1 AND " EP_PG_FENCED("$6") ")"
     " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = 'running',"
     " started_ms = EXCLUDED.started_ms, finished_ms = NULL, error = '', output_text = '', output_json = NULL"
     " WHERE phases.status <> 'completed'"},
    // THE checkpoint, in one statement (so one round trip, and atomic without BEGIN/COMMIT):
    // the instance's row ($1..$16), its attempts ($17: JSON rows of EP_PG_ATTEMPT_COLUMNS) and
    // its events ($18: [[ts_ms, type, payload], …]). The upsert refuses to touch a completed
    // instance; everything after it only happens if it wrote (EXISTS … ph), so a refused
    // checkpoint writes nothing. Returns (instances written, last seq).
    // The fence ($19, NULL when this connection holds no lease on the run) is checked on the
    // run row locked FOR NO KEY UPDATE (the lock the event counter's UPDATE takes anyway): a
    // concurrent take-over waits for this commit, or this commit sees the raised fence and
    // writes nothing. Returns (fence held, instances written, last seq).
    {"commit_phase",
     "WITH guard AS (SELECT 1 FROM runs WHERE id = $1 AND " EP_PG_FENCED("$19") " FOR NO KEY UPDATE),"
     " ph AS (INSERT INTO phases (" EP_PG_PHASE_COLUMNS ")"
     " SELECT $1::text, $2::text, $3::integer, $4::integer, $5::text, $6::text, $7::text, $8::text, $9::text,"
     " $10::bigint, $11::bigint, $12::float8, $13::bigint, $14::bigint, $15::text, $16::integer"
     " WHERE EXISTS (SELECT 1 FROM guard)"
     " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = EXCLUDED.status,"
     " output_text = EXCLUDED.output_text, output_json = EXCLUDED.output_json, provider = EXCLUDED.provider,"
     " model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,"
     " cost_usd = EXCLUDED.cost_usd, started_ms = COALESCE(EXCLUDED.started_ms, phases.started_ms),"
     " finished_ms = EXCLUDED.finished_ms, error = EXCLUDED.error, attempts = EXCLUDED.attempts"
     " WHERE phases.status <> 'completed' RETURNING 1),"
     " att AS (INSERT INTO attempts (" EP_PG_ATTEMPT_COLUMNS ") SELECT a->>0, a->>1, (a->>2)::integer,"
     " (a->>3)::integer, (a->>4)::integer, a->>5, a->>6, a->>7, a->>8, (a->>9)::integer, (a->>10)::bigint,"
     " (a->>11)::bigint FROM json_array_elements($17::json) AS a WHERE EXISTS (SELECT 1 FROM ph)"
     " ON CONFLICT (run_id, phase_id, iteration, item, attempt) DO UPDATE SET provider = EXCLUDED.provider,"
     " model = EXCLUDED.model, outcome = EXCLUDED.outcome, error = EXCLUDED.error,"
     " http_status = EXCLUDED.http_status, latency_ms = EXCLUDED.latency_ms,"
     " started_ms = EXCLUDED.started_ms),"
     " alloc AS (UPDATE runs SET last_seq = last_seq + json_array_length($18::json)"
     " WHERE id = $1 AND json_array_length($18::json) > 0 AND EXISTS (SELECT 1 FROM ph)"
     " RETURNING last_seq - json_array_length($18::json) AS base),"
     " ev AS (INSERT INTO events (run_id, seq, ts_ms, type, payload)"
     " SELECT $1, alloc.base + e.ord, (e.v->>0)::bigint, e.v->>1, (e.v->2)::text"
     " FROM alloc, json_array_elements($18::json) WITH ORDINALITY AS e(v, ord) RETURNING seq)"
     " SELECT (SELECT COUNT(*) FROM guard), (SELECT COUNT(*) FROM ph), COALESCE((SELECT MAX(seq) FROM ev), 0)"},
    // Every instance of the run; a run without phases yields one row of NULLs, no run none.
    {"get_phases",
     "SELECT p.run_id, p.phase_id, p.iteration, p.item, p.status, p.output_text, p.output_json, p.provider,"
     " p.model, p.input_tokens, p.output_tokens, p.cost_usd, p.started_ms, p.finished_ms, p.error, p.attempts"
     " FROM runs r LEFT JOIN phases p ON p.run_id = r.id WHERE r.id = $1"
     " ORDER BY COALESCE(p.started_ms, p.finished_ms) NULLS FIRST, p.phase_id COLLATE \"C\","
     " p.iteration, p.item"},
    {"get_phase",
     "SELECT " EP_PG_PHASE_COLUMNS " FROM phases"
     " WHERE run_id = $1 AND phase_id = $2 AND iteration = $3 AND item = $4"},
    // copy_phases: $1 from, $2 to, $3 phase.
    {"count_completed",
     "SELECT COUNT(*) FROM phases WHERE run_id = $1 AND phase_id = $2 AND status = 'completed'"},
    {"copy_phase",
     "INSERT INTO phases (" EP_PG_PHASE_COLUMNS ") SELECT $2, phase_id, iteration, item, status, output_text,"
     " output_json, provider, model, input_tokens, output_tokens, cost_usd, started_ms, finished_ms, error,"
     " attempts"
     " FROM phases WHERE run_id = $1 AND phase_id = $3 AND status = 'completed'"
     " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = EXCLUDED.status,"
     " output_text = EXCLUDED.output_text, output_json = EXCLUDED.output_json, provider = EXCLUDED.provider,"
     " model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,"
     " cost_usd = EXCLUDED.cost_usd, started_ms = EXCLUDED.started_ms, finished_ms = EXCLUDED.finished_ms,"
     " error = EXCLUDED.error, attempts = EXCLUDED.attempts WHERE phases.status <> 'completed'"},
    {"copy_attempts",
     "INSERT INTO attempts (" EP_PG_ATTEMPT_COLUMNS ") SELECT $2, a.phase_id, a.iteration, a.item, a.attempt,"
     " a.provider, a.model, a.outcome, a.error, a.http_status, a.latency_ms, a.started_ms FROM attempts a"
     " WHERE a.run_id = $1 AND a.phase_id = $3 AND EXISTS (SELECT 1 FROM phases p WHERE p.run_id = $1"
     " AND p.phase_id = a.phase_id AND p.iteration = a.iteration AND p.item = a.item"
     " AND p.status = 'completed')"
     " ON CONFLICT (run_id, phase_id, iteration, item, attempt) DO UPDATE SET provider = EXCLUDED.provider,"
     " model = EXCLUDED.model, outcome = EXCLUDED.outcome, error = EXCLUDED.error,"
     " http_status = EXCLUDED.http_status, latency_ms = EXCLUDED.latency_ms,"
     " started_ms = EXCLUDED.started_ms"},
    // ---- attempts and events ----
    {"record_attempt",
     "INSERT INTO attempts (" EP_PG_ATTEMPT_COLUMNS ")"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
     " ON CONFLICT (run_id, phase_id, iteration, item, attempt) DO UPDATE SET provider = EXCLUDED.provider,"
     " model = EXCLUDED.model, outcome = EXCLUDED.outcome, error = EXCLUDED.error,"
     " http_status = EXCLUDED.http_status, latency_ms = EXCLUDED.latency_ms,"
     " started_ms = EXCLUDED.started_ms"},
    {"get_attempts",
     "SELECT " EP_PG_ATTEMPT_COLUMNS " FROM attempts"
     " WHERE run_id = $1 AND ($2::text IS NULL OR phase_id = $2)"
     " ORDER BY started_ms, phase_id COLLATE \"C\", iteration, item, attempt"},
    // All of a call's events in one statement: $2 is a JSON array of [ts_ms, type, payload].
    // The run row's counter hands out the seqs; its row lock orders concurrent appenders.
    {"append_events",
     "WITH alloc AS (UPDATE runs SET last_seq = last_seq + json_array_length($2::json) WHERE id = $1"
     " AND " EP_PG_FENCED("$3") " RETURNING last_seq - json_array_length($2::json) AS base)"
     " INSERT INTO events (run_id, seq, ts_ms, type, payload)"
     " SELECT $1, alloc.base + e.ord, (e.v->>0)::bigint, e.v->>1, (e.v->2)::text"
     " FROM alloc, json_array_elements($2::json) WITH ORDINALITY AS e(v, ord) RETURNING seq"},
    {"get_events",
     "SELECT run_id, seq, ts_ms, type, payload FROM events WHERE run_id = $1 AND seq > $2"
     " ORDER BY seq LIMIT $3"},
    {"last_seq_mismatch",
     "SELECT r.id, 'its event counter says ' || r.last_seq || ' but the log ends at '"
     " || COALESCE(MAX(e.seq), 0) FROM runs r LEFT JOIN events e ON e.run_id = r.id"
     " GROUP BY r.id HAVING r.last_seq <> COALESCE(MAX(e.seq), 0)"
     " LIMIT 10"},
}};

#undef EP_PG_RUN_COLUMNS
#undef EP_PG_TOTALS
#undef EP_PG_PHASE_COLUMNS
#undef EP_PG_ATTEMPT_COLUMNS
#undef EP_PG_FENCED
#undef EP_PG_NOTIFY_RUNNABLE

}  // namespace

std::span<const prepared_statement> prepared_statements() noexcept { return statements; }

}  // namespace ep::persistence::postgres
