#pragma once
// ep-worker: one process of a pool that shares the runs of a PostgreSQL store (README
// "Workers"). It claims runnable runs (persistence::run_queue), runs each through
// runtime::resume (so completed phase instances are replayed from their checkpoints, never
// sent again), with a lease heartbeat and fenced checkpoints, `concurrency` runs at a time.
//
// Claim granularity: a whole run. Its phase instances (parallel branches, fan-out items) run
// concurrently inside the worker that holds the run; another worker takes the run over only
// when the holder's lease expires.
//
// Stopping (SIGTERM/SIGINT): no new claims; runs in flight get `drain_timeout` to finish, then
// they are stopped (in-flight phases recorded cancelled), released and put back to `pending`
// for another worker. A second signal exits at once: the leases then expire and are reclaimed.

#include <ep/common/env.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace ep::worker {

struct worker_options
{
    std::string db;                  // --db postgres://… (or $EP_DB)
    std::size_t concurrency = 1;     // --concurrency N: runs executed at once
    std::string id;                  // --id NAME: the lease owner; empty: host:pid
    std::chrono::milliseconds lease_ttl{30000};       // --lease-ttl: a heartbeat older than this expires
    std::chrono::milliseconds drain_timeout{30000};   // --drain-timeout: SIGTERM's grace period
    std::size_t max_runs = 0;        // --max-runs N: exit after N runs (0: never; tests, benchmarks)
    bool exit_when_idle = false;     // --exit-when-idle: exit once nothing is runnable (batch use)
    std::optional<std::filesystem::path> personas_file;  // --personas FILE
};

/// The interval between heartbeats for a lease ttl: a sixth of it (so five may be lost).
std::chrono::milliseconds heartbeat_for(std::chrono::milliseconds lease_ttl);

/// Runs the worker until stopped by a signal (or --max-runs / --exit-when-idle). Returns the
/// exit code: 0 after a graceful stop, 2 for bad options or a store that cannot be used.
int run_worker(const worker_options& options, const ep::environment& env, std::ostream& err);

/// ep-worker's command line. Exit codes: 0 stopped gracefully, 2 invalid input, 130 a second
/// signal.
int run_worker_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   const ep::environment& env);
int run_worker_cli(int argc, char** argv);

}  // namespace ep::worker
