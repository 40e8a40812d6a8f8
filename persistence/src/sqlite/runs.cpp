// sqlite_store: runs and their lease.

#include "sqlite/store_impl.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::persistence {

using detail::dump_json;
using detail::parse_json;
using detail::run_label;

namespace {

// Runs with their totals. `r` is a subquery so list_runs can apply its LIMIT before the join.
#define EP_RUN_COLUMNS                                                                                       \
    "r.id, r.workflow, r.definition, r.definition_hash, r.inputs, r.mix, r.status, r.error, "                \
    "r.owner, r.heartbeat_ms, r.created_ms, r.updated_ms, r.finished_ms, "                                   \
    "COALESCE(SUM(p.input_tokens), 0), COALESCE(SUM(p.output_tokens), 0), "                                  \
    "COALESCE(SUM(p.cost_usd), 0), COALESCE(SUM(p.status = 'completed'), 0), "                               \
    "COALESCE(SUM(p.status = 'failed'), 0), r.options, r.parent_run_id, r.parent_phase, "                    \
    "COALESCE(SUM(p.run_id IS NOT NULL AND p.cost_usd IS NULL), 0)"

constexpr const char* get_run_sql =
    "SELECT " EP_RUN_COLUMNS " FROM runs r LEFT JOIN phases p ON p.run_id = r.id"
    " WHERE r.id = ?1 GROUP BY r.id";

// ?1 status or NULL, ?2 workflow or '', ?3 limit, ?4 cursor id or ''. Newest first; runs of
// one millisecond in creation (rowid) order. The cursor is the position of the run ?4 in that
// order, or, for an id that is no stored run, a bound on the (time-sortable) ids.
constexpr const char* list_runs_sql =
    "SELECT " EP_RUN_COLUMNS " FROM (SELECT rowid AS rid, * FROM runs"
    "       WHERE (?1 IS NULL OR status = ?1) AND (?2 = '' OR workflow = ?2)"
    "         AND (?4 = ''"
    "              OR (created_ms, rowid) < (SELECT c.created_ms, c.rowid FROM runs c WHERE c.id = ?4)"
    "              OR (id < ?4 AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.id = ?4)))"
    "       ORDER BY created_ms DESC, rowid DESC LIMIT ?3) r"
    " LEFT JOIN phases p ON p.run_id = r.id"
    " GROUP BY r.id ORDER BY r.created_ms DESC, r.rid DESC";

#undef EP_RUN_COLUMNS

run_record read_run(const sqlite::statement& st)
{
    run_record r;
    r.id = st.text(0);
    r.workflow = st.text(1);
    r.definition = st.text(2);
    r.definition_hash = st.text(3);
    r.inputs = parse_json(st.text(4));
    r.mix = st.text(5);
    r.status = parse_run_status(st.text(6)).value_or(run_status::failed);
    r.error = st.text(7);
    r.owner = st.text(8);
    r.heartbeat = st.opt_time(9);
    r.created = st.time(10);
    r.updated = st.time(11);
    r.finished = st.opt_time(12);
    r.totals.input_tokens = st.int64(13);
    r.totals.output_tokens = st.int64(14);
    r.totals.cost_usd = st.real(15);
    r.totals.phases_completed = static_cast<int>(st.int64(16));
    r.totals.phases_failed = static_cast<int>(st.int64(17));
    r.totals.duration = r.finished.value_or(r.updated) - r.created;
    r.options = parse_json(st.text(18));
    r.parent_run_id = st.text(19);
    r.parent_phase = st.text(20);
    r.totals.unpriced_phases = static_cast<int>(st.int64(21));
    return r;
}

result<run_record> get_run_locked(sqlite_store::impl& s, const std::string& run_id)
{
    auto st = s.prepare(get_run_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id);
    const int rc = st->step();
    if (rc == SQLITE_DONE)
        return s.fail(persistence_errc::not_found, "no " + run_label(run_id));
    if (rc != SQLITE_ROW)
        return s.fail(rc, "reading " + run_label(run_id));
    return read_run(*st);
}

// Runs a single-row UPDATE that identifies the run by ?1 and returns how many rows changed.
template <class Bind>
result<int> update_run(sqlite_store::impl& s, const char* sql, const std::string& what, Bind&& bind)
{
    auto st = s.prepare(sql);
    if (!st)
        return std::move(st).error();
    bind(*st);
    const int rc = st->step();
    if (rc != SQLITE_DONE)
        return s.fail(rc, what);
    return sqlite3_changes(s.db);
}

}  // namespace

result<run_record> sqlite_store::create_run(run_record run)
{
    const auto now = impl_->now();
    if (auto bad = detail::prepare_new_run(run, now))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);

    auto st = impl_->prepare(
        "INSERT INTO runs (id, workflow, definition, definition_hash, inputs, mix, status, error, owner,"
        " heartbeat_ms, created_ms, updated_ms, finished_ms, options, parent_run_id, parent_phase)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15)");
    if (!st)
        return std::move(st).error();
    st->bind(1, run.id)
        .bind(2, run.workflow)
        .bind(3, run.definition)
        .bind(4, run.definition_hash)
        .bind(5, dump_json(run.inputs))
        .bind(6, run.mix)
        .bind(7, to_string(run.status))
        .bind(8, run.error)
        .bind_or_null(9, run.owner)
        .bind(10, run.heartbeat)
        .bind(11, now)
        .bind(12, run.finished)
        .bind(13, dump_json(run.options))
        .bind(14, run.parent_run_id)
        .bind(15, run.parent_phase);
    const int rc = st->step();
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return impl_->fail(persistence_errc::invalid_argument, run_label(run.id) + " already exists");
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "creating " + run_label(run.id));
    return run;
}

result<run_record> sqlite_store::get_run(const std::string& run_id)
{
    std::lock_guard lock(impl_->mutex);
    return get_run_locked(*impl_, run_id);
}

result<std::vector<run_record>> sqlite_store::list_runs(const run_filter& filter)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(list_runs_sql);
    if (!st)
        return std::move(st).error();
    if (filter.status)
        st->bind(1, to_string(*filter.status));
    else
        st->bind_null(1);
    st->bind(2, filter.workflow)
        .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX)))
        .bind(4, filter.before_id);
    std::vector<run_record> out;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
        out.push_back(read_run(*st));
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "listing runs");
    return out;
}

result<void> sqlite_store::set_run_status(const std::string& run_id, run_status status,
                                          const std::string& error)
{
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    // Entering `waiting` frees the lease in the same write: nobody owns a run at a gate.
    auto changed = update_run(*impl_,
                              "UPDATE runs SET status = ?2, error = ?3, updated_ms = ?4, finished_ms = ?5,"
                              " owner = CASE WHEN ?2 = 'waiting' THEN NULL ELSE owner END,"
                              " heartbeat_ms = CASE WHEN ?2 = 'waiting' THEN NULL ELSE heartbeat_ms END"
                              " WHERE id = ?1",
                              "setting the status of " + run_label(run_id),
                              [&](sqlite::statement& st) {
        st.bind(1, run_id).bind(2, to_string(status)).bind(3, error).bind(4, now);
        st.bind(5, is_finished(status) ? std::optional<timestamp>(now) : std::nullopt);
    });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 0)
        return impl_->fail(persistence_errc::not_found, "no " + run_label(run_id));
    return {};
}

result<void> sqlite_store::set_run_mix(const std::string& run_id, const std::string& mix)
{
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    auto changed = update_run(*impl_, "UPDATE runs SET mix = ?2, updated_ms = ?3 WHERE id = ?1",
                              "setting the mix of " + run_label(run_id),
                              [&](sqlite::statement& st) { st.bind(1, run_id).bind(2, mix).bind(3, now); });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 0)
        return impl_->fail(persistence_errc::not_found, "no " + run_label(run_id));
    return {};
}

result<void> sqlite_store::set_run_options(const std::string& run_id, const nlohmann::json& options)
{
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    auto changed = update_run(*impl_, "UPDATE runs SET options = ?2, updated_ms = ?3 WHERE id = ?1",
                              "setting the options of " + run_label(run_id), [&](sqlite::statement& st) {
                                  st.bind(1, run_id).bind(2, dump_json(options)).bind(3, now);
                              });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 0)
        return impl_->fail(persistence_errc::not_found, "no " + run_label(run_id));
    return {};
}

// ---- lease ---------------------------------------------------------------------------------

result<run_record> sqlite_store::acquire_lease(const std::string& run_id, const std::string& owner,
                                               std::chrono::milliseconds ttl)
{
    if (owner.empty())
        return impl_->fail(persistence_errc::invalid_argument, "acquire_lease: the owner is empty");
    std::lock_guard lock(impl_->mutex);
    // One write transaction: the check and the take-over must not interleave with another
    // process doing the same.
    sqlite::write_transaction txn(*impl_);
    const std::string what = "acquiring the lease of " + run_label(run_id);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    const auto now = impl_->now();
    auto changed =
        update_run(*impl_,
                   "UPDATE runs SET owner = ?2, heartbeat_ms = ?3, updated_ms = ?3 WHERE id = ?1"
                   " AND (owner IS NULL OR owner = ?2 OR heartbeat_ms IS NULL OR heartbeat_ms < ?4)",
                   what, [&](sqlite::statement& st) {
                       st.bind(1, run_id).bind(2, owner).bind(3, now).bind(4, now - ttl);
                   });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 0)
    {
        auto current = get_run_locked(*impl_, run_id);
        if (!current)
            return std::move(current).error();
        if (!(impl_->options.take_over_dead_local_owner && owner_is_dead_local_process(current->owner)))
        {
            const auto age = current->heartbeat ? now - *current->heartbeat : std::chrono::milliseconds(0);
            return impl_->fail(persistence_errc::lease_held,
                               run_label(run_id) + " is owned by " + current->owner + " (last heartbeat " +
                                   std::to_string(age.count()) + " ms ago, lease ttl " +
                                   std::to_string(ttl.count()) + " ms)");
        }
        // The holder is a dead process on this host (e.g. after kill -9): take over now.
        changed = update_run(*impl_,
                             "UPDATE runs SET owner = ?2, heartbeat_ms = ?3, updated_ms = ?3"
                             " WHERE id = ?1 AND owner = ?4",
                             what, [&](sqlite::statement& st) {
                                 st.bind(1, run_id).bind(2, owner).bind(3, now).bind(4, current->owner);
                             });
        if (!changed)
            return std::move(changed).error();
    }
    auto run = get_run_locked(*impl_, run_id);
    if (!run)
        return std::move(run).error();
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return run;
}

result<void> sqlite_store::renew_lease(const std::string& run_id, const std::string& owner)
{
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    auto changed = update_run(*impl_, "UPDATE runs SET heartbeat_ms = ?3 WHERE id = ?1 AND owner = ?2",
                              "renewing the lease of " + run_label(run_id),
                              [&](sqlite::statement& st) { st.bind(1, run_id).bind(2, owner).bind(3, now); });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 1)
        return {};
    auto current = get_run_locked(*impl_, run_id);
    if (!current)
        return std::move(current).error();
    return impl_->fail(persistence_errc::lease_held,
                       run_label(run_id) + " is no longer owned by " + owner + " (owner now: " +
                           (current->owner.empty() ? std::string("nobody") : current->owner) + ")");
}

result<void> sqlite_store::release_lease(const std::string& run_id, const std::string& owner)
{
    std::lock_guard lock(impl_->mutex);
    auto changed =
        update_run(*impl_, "UPDATE runs SET owner = NULL, heartbeat_ms = NULL WHERE id = ?1 AND owner = ?2",
                   "releasing the lease of " + run_label(run_id),
                   [&](sqlite::statement& st) { st.bind(1, run_id).bind(2, owner); });
    if (!changed)
        return std::move(changed).error();
    if (*changed == 1)
        return {};
    auto current = get_run_locked(*impl_, run_id);
    if (!current)
        return std::move(current).error();
    if (current->owner.empty())
        return {};
    return impl_->fail(persistence_errc::lease_held,
                       run_label(run_id) + " is owned by " + current->owner + ", not " + owner);
}

}  // namespace ep::persistence
