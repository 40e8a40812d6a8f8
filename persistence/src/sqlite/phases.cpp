// sqlite_store: phase instances — begin, the one-transaction checkpoint the executor relies
// on, reads, and the copy a fork starts from.

#include "sqlite/writes.hpp"

namespace ep::persistence {

using detail::phase_label;
using detail::run_label;

namespace {

#define EP_PHASE_COLUMNS                                                                                     \
    "run_id, phase_id, iteration, item, status, output_text, output_json, provider, model, "                 \
    "input_tokens, output_tokens, cost_usd, started_ms, finished_ms, error, attempts"

phase_record read_phase(const sqlite::statement& st)
{
    phase_record p;
    p.run_id = st.text(0);
    p.phase_id = st.text(1);
    p.iteration = static_cast<int>(st.int64(2));
    p.item = detail::item_from_column(st.int64(3));
    p.status = parse_phase_status(st.text(4)).value_or(phase_status::failed);
    p.output_text = st.text(5);
    if (!st.is_null(6))
        p.output_json = detail::parse_json(st.text(6));
    p.provider = st.text(7);
    p.model = st.text(8);
    p.input_tokens = st.int64(9);
    p.output_tokens = st.int64(10);
    if (st.is_null(11))
        p.cost_usd = std::nullopt;
    else
        p.cost_usd = st.real(11);
    p.started = st.opt_time(12);
    p.finished = st.opt_time(13);
    p.error = st.text(14);
    p.attempts = static_cast<int>(st.int64(15));
    return p;
}

// In the order the instances started (a skipped one never started: when it was skipped).
constexpr const char* get_phases_sql =
    "SELECT " EP_PHASE_COLUMNS " FROM phases WHERE run_id = ?1"
    " ORDER BY COALESCE(started_ms, finished_ms), phase_id, iteration, item";
constexpr const char* get_phase_sql =
    "SELECT " EP_PHASE_COLUMNS
    " FROM phases WHERE run_id = ?1 AND phase_id = ?2 AND iteration = ?3 AND item = ?4";

// The upsert refuses (0 rows changed) to overwrite a completed instance: its output is final
// and a resume must load it, never recompute it. One statement per checkpoint, as before loops:
// the instance key only widens the primary key.
constexpr const char* commit_phase_sql =
    "INSERT INTO phases (" EP_PHASE_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = excluded.status,"
    " output_text = excluded.output_text, output_json = excluded.output_json, provider = excluded.provider,"
    " model = excluded.model, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
    " cost_usd = excluded.cost_usd, started_ms = COALESCE(excluded.started_ms, phases.started_ms),"
    " finished_ms = excluded.finished_ms, error = excluded.error, attempts = excluded.attempts"
    " WHERE phases.status <> 'completed'";

constexpr const char* begin_phase_sql =
    "INSERT INTO phases (run_id, phase_id, iteration, item, status, started_ms)"
    " VALUES (?1, ?2, ?3, ?4, 'running', ?5)"
    " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = 'running',"
    " started_ms = excluded.started_ms, finished_ms = NULL, error = '', output_text = '', output_json = NULL"
    " WHERE phases.status <> 'completed'";

// copy_phases: ?1 from, ?2 to, ?3 phase. The completed instances of one phase, with their
// attempts; the phases upsert keeps "completed is final" in the target.
constexpr const char* count_completed_sql =
    "SELECT COUNT(*) FROM phases WHERE run_id = ?1 AND phase_id = ?3 AND status = 'completed'";
constexpr const char* copy_phase_sql =
    "INSERT INTO phases (" EP_PHASE_COLUMNS ") SELECT ?2, phase_id, iteration, item, status, output_text,"
    " output_json, provider, model, input_tokens, output_tokens, cost_usd, started_ms, finished_ms, error,"
    " attempts FROM phases WHERE run_id = ?1 AND phase_id = ?3 AND status = 'completed'"
    " ON CONFLICT (run_id, phase_id, iteration, item) DO UPDATE SET status = excluded.status,"
    " output_text = excluded.output_text, output_json = excluded.output_json, provider = excluded.provider,"
    " model = excluded.model, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
    " cost_usd = excluded.cost_usd, started_ms = excluded.started_ms, finished_ms = excluded.finished_ms,"
    " error = excluded.error, attempts = excluded.attempts"
    " WHERE phases.status <> 'completed'";
constexpr const char* copy_attempts_sql =
    "INSERT OR REPLACE INTO attempts (run_id, phase_id, iteration, item, attempt, provider, model, outcome,"
    " error, http_status, latency_ms, started_ms)"
    " SELECT ?2, a.phase_id, a.iteration, a.item, a.attempt, a.provider, a.model, a.outcome, a.error, a.http_status, a.latency_ms, a.started_ms FROM attempts a"
    " WHERE a.run_id = ?1 AND a.phase_id = ?3 AND EXISTS (SELECT 1 FROM phases p WHERE p.run_id = ?1"
    " AND p.phase_id = a.phase_id AND p.iteration = a.iteration AND p.item = a.item"
    " AND p.status = 'completed')";

#undef EP_PHASE_COLUMNS

// Binds the phase record of a checkpoint to commit_phase_sql.
void bind_checkpoint(sqlite::statement& st, const phase_record& p, timestamp now)
{
    st.bind(1, p.run_id)
        .bind(2, p.phase_id)
        .bind(3, p.iteration)
        .bind(4, detail::item_column(p.item))
        .bind(5, to_string(p.status))
        .bind(6, p.output_text)
        .bind(8, p.provider)
        .bind(9, p.model)
        .bind(10, p.input_tokens)
        .bind(11, p.output_tokens)
        .bind(12, p.cost_usd)
        .bind(13, p.started)
        .bind(14, p.finished.value_or(now))
        .bind(15, p.error)
        .bind(16, p.attempts);
    if (p.output_json)
        st.bind(7, detail::dump_json(*p.output_json));
    else
        st.bind_null(7);
}

// Runs one copy_phases statement (?1 from, ?2 to, ?3 phase); returns the rows it changed.
result<std::int64_t> run_copy_statement(sqlite_store::impl& s, const char* sql, const std::string& from,
                                        const std::string& to, const std::string& phase_id,
                                        const std::string& what)
{
    auto st = s.prepare(sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, from).bind(2, to).bind(3, phase_id);
    const int rc = st->step();
    if (rc == SQLITE_ROW)
        return st->int64(0);  // the count
    if (rc != SQLITE_DONE)
        return sqlite::write_error(s, rc, to, what);
    return std::int64_t{sqlite3_changes(s.db)};
}

// copy_phases for one phase id: its completed instances, then their attempts.
result<void> copy_one_phase(sqlite_store::impl& s, const std::string& from, const std::string& to,
                            const std::string& phase_id, const std::string& what)
{
    auto completed = run_copy_statement(s, count_completed_sql, from, to, phase_id, what);
    if (!completed)
        return std::move(completed).error();
    auto copied = run_copy_statement(s, copy_phase_sql, from, to, phase_id, what);
    if (!copied)
        return std::move(copied).error();
    if (*copied != *completed)  // the upsert left a completed target instance alone
        return s.fail(persistence_errc::invalid_state, what + ": " + run_label(to) +
                                                           " already has completed instances of phase '" +
                                                           phase_id + "'");
    auto attempts = run_copy_statement(s, copy_attempts_sql, from, to, phase_id, what);
    if (!attempts)
        return std::move(attempts).error();
    return {};
}

}  // namespace

result<void> sqlite_store::begin_phase(const std::string& run_id, const std::string& phase_id, int iteration,
                                       std::optional<int> item)
{
    const std::string what = "beginning " + phase_label(run_id, phase_id, iteration, item);
    if (auto bad = detail::check_instance_key(iteration, item, what))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(begin_phase_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id)
        .bind(2, phase_id)
        .bind(3, iteration)
        .bind(4, detail::item_column(item))
        .bind(5, impl_->now());
    if (const int rc = st->step(); rc != SQLITE_DONE)
        return sqlite::write_error(*impl_, rc, run_id, what);
    if (sqlite3_changes(impl_->db) == 0)
        return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
    return {};
}

result<std::int64_t> sqlite_store::commit_phase(const phase_record& p,
                                                const std::vector<event_record>& events,
                                                const std::vector<attempt_record>& attempts)
{
    const std::string what = "committing " + phase_label(p.run_id, p.phase_id, p.iteration, p.item);
    if (auto bad = detail::check_checkpoint(p, attempts, what))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    sqlite::write_transaction txn(*impl_);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    {
        auto st = impl_->prepare(commit_phase_sql);
        if (!st)
            return std::move(st).error();
        bind_checkpoint(*st, p, now);
        if (const int rc = st->step(); rc != SQLITE_DONE)
            return sqlite::write_error(*impl_, rc, p.run_id, what);
        if (sqlite3_changes(impl_->db) == 0)
            return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
    }
    for (const auto& a : attempts)
        if (auto r = sqlite::insert_attempt(*impl_, a); !r)
            return std::move(r).error();
    auto seq = sqlite::insert_events(*impl_, p.run_id, events, now, what);
    if (!seq)
        return std::move(seq).error();
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return *seq;
}

result<std::vector<phase_record>> sqlite_store::get_phases(const std::string& run_id)
{
    std::lock_guard lock(impl_->mutex);
    if (auto r = sqlite::require_run(*impl_, run_id, "reading the phases"); !r)
        return std::move(r).error();
    auto st = impl_->prepare(get_phases_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id);
    std::vector<phase_record> out;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
        out.push_back(read_phase(*st));
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "reading the phases of " + run_label(run_id));
    return out;
}

result<phase_record> sqlite_store::get_phase(const std::string& run_id, const std::string& phase_id,
                                             int iteration, std::optional<int> item)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(get_phase_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id).bind(2, phase_id).bind(3, iteration).bind(4, detail::item_column(item));
    const int rc = st->step();
    if (rc == SQLITE_DONE)
        return impl_->fail(persistence_errc::not_found,
                           "no " + phase_label(run_id, phase_id, iteration, item));
    if (rc != SQLITE_ROW)
        return impl_->fail(rc, "reading " + phase_label(run_id, phase_id, iteration, item));
    return read_phase(*st);
}

result<void> sqlite_store::copy_phases(const std::string& from_run, const std::string& to_run,
                                       const std::vector<std::string>& phase_ids)
{
    const std::string what = "copying phases from " + run_label(from_run) + " to " + run_label(to_run);
    if (from_run == to_run)
        return impl_->fail(persistence_errc::invalid_argument, what + ": a run cannot be copied into itself");
    std::lock_guard lock(impl_->mutex);
    sqlite::write_transaction txn(*impl_);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    for (const auto* run : {&from_run, &to_run})
        if (auto r = sqlite::require_run(*impl_, *run, what); !r)
            return std::move(r).error();
    for (const auto& phase_id : phase_ids)
        if (auto r = copy_one_phase(*impl_, from_run, to_run, phase_id, what); !r)
            return std::move(r).error();
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return {};
}

}  // namespace ep::persistence
