#include "sqlite/schema.hpp"

#include <array>

namespace ep::persistence::sqlite {

namespace {

// Times are INTEGER milliseconds since the Unix epoch; JSON is stored as text. Statuses are
// text (readable with the sqlite3 shell) and constrained so a bug cannot store a bad one.
// Never edit a shipped migration: append a new one.
constexpr const char* v1_sql = R"sql(
CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    workflow        TEXT NOT NULL,
    definition      TEXT NOT NULL,
    definition_hash TEXT NOT NULL,
    inputs          TEXT NOT NULL,
    mix             TEXT NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'interrupted')),
    error           TEXT NOT NULL DEFAULT '',
    owner           TEXT,
    heartbeat_ms    INTEGER,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    finished_ms     INTEGER
);
CREATE INDEX runs_by_created ON runs (created_ms);

CREATE TABLE phases (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id      TEXT NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('running', 'completed', 'failed', 'skipped', 'cancelled')),
    output_text   TEXT NOT NULL DEFAULT '',
    output_json   TEXT,
    provider      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL NOT NULL DEFAULT 0,
    started_ms    INTEGER,
    finished_ms   INTEGER,
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, phase_id)
);

CREATE TABLE attempts (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'cancelled')),
    error       TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    latency_ms  INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, phase_id, attempt)
);

CREATE TABLE events (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    ts_ms   INTEGER NOT NULL,
    type    TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// v2: phases and attempts keyed by their primary key alone (WITHOUT ROWID). A rowid table
// with a composite key keeps two b-trees (rows, and the key's index), so every checkpoint wrote
// two more pages than it needed to: a quarter of its WAL traffic.
constexpr const char* v2_sql = R"sql(
CREATE TABLE phases_v2 (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id      TEXT NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('running', 'completed', 'failed', 'skipped', 'cancelled')),
    output_text   TEXT NOT NULL DEFAULT '',
    output_json   TEXT,
    provider      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL NOT NULL DEFAULT 0,
    started_ms    INTEGER,
    finished_ms   INTEGER,
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, phase_id)
) WITHOUT ROWID;
INSERT INTO phases_v2 SELECT run_id, phase_id, status, output_text, output_json, provider, model, input_tokens,
    output_tokens, cost_usd, started_ms, finished_ms, error, attempts FROM phases;
DROP TABLE phases;
ALTER TABLE phases_v2 RENAME TO phases;

CREATE TABLE attempts_v2 (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'cancelled')),
    error       TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    latency_ms  INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, phase_id, attempt)
) WITHOUT ROWID;
INSERT INTO attempts_v2 SELECT run_id, phase_id, attempt, provider, model, outcome, error, http_status,
    latency_ms, started_ms FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_v2 RENAME TO attempts;
)sql";

constexpr std::array<migration, 2> all_migrations{{
    {1, v1_sql},
    {2, v2_sql},
}};

}  // namespace

std::span<const migration> migrations() noexcept { return all_migrations; }

int latest_schema_version() noexcept { return all_migrations.back().version; }

}  // namespace ep::persistence::sqlite
