#include "postgres/schema.hpp"

#include <array>

namespace ep::persistence::postgres {

namespace {

// Version 1 holds what SQLite's version 3 holds (runs with options and a fork's origin, phase
// instances keyed by (run, phase, iteration, item), attempts per instance, the event log), plus
// two columns SQLite does without: runs.created_seq (creation order, where SQLite has rowids)
// and runs.last_seq (the event counter whose row lock orders concurrent appenders, where SQLite
// has one writer at a time). Never edit a shipped migration: append a new one.
constexpr const char* v1_sql = R"sql(
CREATE TABLE ep_schema_version (version integer NOT NULL);
INSERT INTO ep_schema_version VALUES (0);

CREATE TABLE runs (
    id              text PRIMARY KEY,
    created_seq     bigint GENERATED ALWAYS AS IDENTITY,
    workflow        text NOT NULL,
    definition      text NOT NULL,
    definition_hash text NOT NULL,
    inputs          text NOT NULL,
    mix             text NOT NULL,
    options         text NOT NULL DEFAULT '{}',
    parent_run_id   text NOT NULL DEFAULT '',
    parent_phase    text NOT NULL DEFAULT '',
    status          text NOT NULL
                    CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'interrupted')),
    error           text NOT NULL DEFAULT '',
    owner           text,
    heartbeat_ms    bigint,
    created_ms      bigint NOT NULL,
    updated_ms      bigint NOT NULL,
    finished_ms     bigint,
    last_seq        bigint NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_created ON runs (created_ms, created_seq);

CREATE TABLE phases (
    run_id        text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id      text NOT NULL,
    iteration     integer NOT NULL DEFAULT 1 CHECK (iteration >= 1),
    item          integer NOT NULL DEFAULT -1 CHECK (item >= -1),
    status        text NOT NULL
                  CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
    output_text   text NOT NULL DEFAULT '',
    output_json   text,
    provider      text NOT NULL DEFAULT '',
    model         text NOT NULL DEFAULT '',
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost_usd      double precision NOT NULL DEFAULT 0,
    started_ms    bigint,
    finished_ms   bigint,
    error         text NOT NULL DEFAULT '',
    attempts      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, phase_id, iteration, item)
);

CREATE TABLE attempts (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id    text NOT NULL,
    iteration   integer NOT NULL DEFAULT 1 CHECK (iteration >= 1),
    item        integer NOT NULL DEFAULT -1 CHECK (item >= -1),
    attempt     integer NOT NULL,
    provider    text NOT NULL,
    model       text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'failed', 'cancelled')),
    error       text NOT NULL DEFAULT '',
    http_status integer,
    latency_ms  bigint NOT NULL,
    started_ms  bigint NOT NULL,
    PRIMARY KEY (run_id, phase_id, iteration, item, attempt)
);

CREATE TABLE events (
    run_id  text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     bigint NOT NULL,
    ts_ms   bigint NOT NULL,
    type    text NOT NULL,
    payload text NOT NULL,
    PRIMARY KEY (run_id, seq)
);
)sql";

// Version 2: shared execution by ep-worker processes (README "Workers").
//  - runs.fence: the fencing token, raised by every lease take-over (acquire_lease, a worker's
//    claim). A lease holder's writes carry the fence it got and are refused once it changed, so
//    a worker presumed dead cannot write over a run another worker has reclaimed.
//  - runs_runnable: a partial index of the rows a worker may claim (pending, or running with a
//    heartbeat that may have gone stale), in claim order; finished runs are not in it.
constexpr const char* v2_sql = R"sql(
ALTER TABLE runs ADD COLUMN fence bigint NOT NULL DEFAULT 0;
CREATE INDEX runs_runnable ON runs (created_ms, created_seq) WHERE status IN ('pending', 'running');
)sql";

// Version 3: a phase's cost may be unknown (NULL): a model without a price in the catalogue.
// Before, such a cost was stored as 0, indistinguishable from a free call.
constexpr const char* v3_sql = R"sql(
ALTER TABLE phases ALTER COLUMN cost_usd DROP NOT NULL;
)sql";

constexpr std::array<migration, 3> all_migrations{{
    {1, v1_sql},
    {2, v2_sql},
    {3, v3_sql},
}};

}  // namespace

std::span<const migration> migrations() noexcept { return all_migrations; }

int latest_schema_version() noexcept { return all_migrations.back().version; }

}  // namespace ep::persistence::postgres
