#pragma once
// run_queue: how ep-worker processes share the runs of one PostgreSQL store (README "Workers").
//
// A run is *runnable* when it is `pending` (submitted with `ep-run --detach`, or released by a
// worker that stopped) and nobody holds its lease, or `running` with a heartbeat older than the
// lease ttl (its owner died). claim() takes the oldest runnable run in one statement,
//
//   UPDATE runs … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING fence
//
// under READ COMMITTED on the partial index runs_runnable, so concurrent workers never claim the
// same run and never wait for each other. The claim raises the run's fencing token; the
// runtime's resume then takes the lease (raising it again) and every write of that run carries
// the token in its WHERE clause (postgres_store), so a worker presumed dead cannot overwrite a
// run another worker reclaimed.
//
// Idle workers sleep in wait_for_work(): LISTEN ep_runnable_<schema hash> (notified by every insert of a
// pending run and every release of an unfinished one), with a timeout that bounds how late an
// expired lease is noticed. No busy loop.
//
// Thread safety: none; one run_queue per thread. It has its own two connections (claims, LISTEN).

#include <ep/persistence/open_store.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ep::persistence {

/// A claimed run.
struct run_claim
{
    std::string run_id;
    std::int64_t fence = 0;  // the run's fencing token after the claim
    /// How long the run had been runnable when claimed (since it was submitted or released, or
    /// since its previous owner's lease expired): the claim latency.
    std::chrono::milliseconds waited{0};
    bool reclaimed = false;  // taken from an owner whose lease had expired
};

class run_queue
{
public:
    /// Connects to the PostgreSQL store `uri` (migrating it like open_store). Errors: those of
    /// open_store; invalid_argument for a SQLite store (workers need a shared database).
    static result<std::unique_ptr<run_queue>> open(std::string_view uri, const store_options& options = {});
    ~run_queue();
    run_queue(const run_queue&) = delete;
    run_queue& operator=(const run_queue&) = delete;

    /// Leases the oldest runnable run to `owner` (heartbeat now), or nullopt if there is none.
    /// `ttl`: a heartbeat older than this is an expired lease (the run is reclaimed).
    result<std::optional<run_claim>> claim(const std::string& owner, std::chrono::milliseconds ttl);

    /// Puts an `interrupted` run whose lease is free back to `pending` (a worker stopped before
    /// finishing it) and wakes the workers. Returns false if the run was not in that state.
    result<bool> requeue(const std::string& run_id);

    /// Sleeps until a NOTIFY on this schema's ep_runnable channel arrives (true) or `timeout` passes (false).
    /// A notification that arrived since the last call returns at once. Errors: io_error when the
    /// database cannot be reached (the next call reconnects).
    result<bool> wait_for_work(std::chrono::milliseconds timeout);

    struct impl;

private:
    explicit run_queue(std::unique_ptr<impl> i) noexcept;
    std::unique_ptr<impl> impl_;
};

}  // namespace ep::persistence
