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

// v3: control flow (loops, fan-out, approval gates, fork). A checkpoint is keyed by
// (run, phase, iteration, item): item -1 is the phase itself, 0..N-1 a fan-out's items. Runs
// gain `options`, the fork's origin and the `waiting` status; phases `waiting` too. SQLite
// cannot change a CHECK constraint in place, so every table but events is rebuilt; runs keep
// their rowids (list order). Applied with foreign_keys off (see sqlite_store::open): with them
// on, dropping the old runs table would cascade to every phase and event.
constexpr const char* v3_sql = R"sql(
CREATE TABLE runs_v3 (
    id              TEXT PRIMARY KEY,
    workflow        TEXT NOT NULL,
    definition      TEXT NOT NULL,
    definition_hash TEXT NOT NULL,
    inputs          TEXT NOT NULL,
    mix             TEXT NOT NULL,
    options         TEXT NOT NULL DEFAULT '{}',
    parent_run_id   TEXT NOT NULL DEFAULT '',
    parent_phase    TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'interrupted')),
    error           TEXT NOT NULL DEFAULT '',
    owner           TEXT,
    heartbeat_ms    INTEGER,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    finished_ms     INTEGER
);
INSERT INTO runs_v3 (rowid, id, workflow, definition, definition_hash, inputs, mix, status, error, owner,
    heartbeat_ms, created_ms, updated_ms, finished_ms)
    SELECT rowid, id, workflow, definition, definition_hash, inputs, mix, status, error, owner, heartbeat_ms,
    created_ms, updated_ms, finished_ms FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_by_created ON runs (created_ms);

CREATE TABLE phases_v3 (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id      TEXT NOT NULL,
    iteration     INTEGER NOT NULL DEFAULT 1 CHECK (iteration >= 1),
    item          INTEGER NOT NULL DEFAULT -1 CHECK (item >= -1),
    status        TEXT NOT NULL
                  CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
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
    PRIMARY KEY (run_id, phase_id, iteration, item)
) WITHOUT ROWID;
INSERT INTO phases_v3 (run_id, phase_id, status, output_text, output_json, provider, model, input_tokens,
    output_tokens, cost_usd, started_ms, finished_ms, error, attempts)
    SELECT run_id, phase_id, status, output_text, output_json, provider, model, input_tokens, output_tokens,
    cost_usd, started_ms, finished_ms, error, attempts FROM phases;
DROP TABLE phases;
ALTER TABLE phases_v3 RENAME TO phases;

CREATE TABLE attempts_v3 (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id    TEXT NOT NULL,
    iteration   INTEGER NOT NULL DEFAULT 1 CHECK (iteration >= 1),
    item        INTEGER NOT NULL DEFAULT -1 CHECK (item >= -1),
    attempt     INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'cancelled')),
    error       TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    latency_ms  INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, phase_id, iteration, item, attempt)
) WITHOUT ROWID;
INSERT INTO attempts_v3 (run_id, phase_id, attempt, provider, model, outcome, error, http_status, latency_ms,
    started_ms)
    SELECT run_id, phase_id, attempt, provider, model, outcome, error, http_status, latency_ms, started_ms
    FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_v3 RENAME TO attempts;
)sql";

// v4: a phase's cost may be unknown (NULL): a model without a price in the catalogue. Before,
// such a cost was stored as 0, indistinguishable from a free call. SQLite cannot drop a NOT NULL
// in place, so phases is rebuilt; its rows keep their (then known or assumed) costs.
constexpr const char* v4_sql = R"sql(
CREATE TABLE phases_v4 (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id      TEXT NOT NULL,
    iteration     INTEGER NOT NULL DEFAULT 1 CHECK (iteration >= 1),
    item          INTEGER NOT NULL DEFAULT -1 CHECK (item >= -1),
    status        TEXT NOT NULL
                  CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
    output_text   TEXT NOT NULL DEFAULT '',
    output_json   TEXT,
    provider      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL DEFAULT 0,
    started_ms    INTEGER,
    finished_ms   INTEGER,
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, phase_id, iteration, item)
) WITHOUT ROWID;
INSERT INTO phases_v4 SELECT run_id, phase_id, iteration, item, status, output_text, output_json, provider, model,
    input_tokens, output_tokens, cost_usd, started_ms, finished_ms, error, attempts FROM phases;
DROP TABLE phases;
ALTER TABLE phases_v4 RENAME TO phases;
)sql";

constexpr std::array<migration, 4> all_migrations{{
    {1, v1_sql},
    {2, v2_sql},
    {3, v3_sql},
    {4, v4_sql},
}};

}  // namespace

std::span<const migration> migrations() noexcept { return all_migrations; }

int latest_schema_version() noexcept { return all_migrations.back().version; }

}  // namespace ep::persistence::sqlite
