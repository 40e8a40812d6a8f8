// sqlite_store: phase results, attempts and the event log — including commit_phase, the
// one-transaction checkpoint the executor relies on.

#include "sqlite/store_impl.hpp"

namespace ep::persistence {

using sqlite::run_label;

namespace {

std::string phase_label(const std::string& run_id, const std::string& phase_id)
{
    return "phase '" + phase_id + "' of " + run_label(run_id);
}

std::string dump(const nlohmann::json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A foreign-key failure on insert means the run does not exist: report that, not "constraint".
store_error write_error(sqlite_store::impl& s, int rc, const std::string& run_id, const std::string& what)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return s.fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
    return s.fail(rc, what);
}

result<bool> run_exists(sqlite_store::impl& s, const std::string& run_id)
{
    auto st = s.prepare("SELECT 1 FROM runs WHERE id = ?1");
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id);
    const int rc = st->step();
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return s.fail(rc, "looking up " + run_label(run_id));
}

// Appends inside the caller's transaction; returns the last seq (0 for none).
result<std::int64_t> insert_events(sqlite_store::impl& s, const std::string& run_id,
                                   const std::vector<event_record>& events, timestamp now,
                                   const std::string& what)
{
    if (events.empty())
        return std::int64_t{0};
    std::int64_t seq = 0;
    {
        auto st = s.prepare("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?1");
        if (!st)
            return std::move(st).error();
        st->bind(1, run_id);
        const int rc = st->step();
        if (rc != SQLITE_ROW)
            return s.fail(rc, what);
        seq = st->int64(0);
    }
    for (const auto& e : events)
    {
        auto st = s.prepare("INSERT INTO events (run_id, seq, ts_ms, type, payload) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!st)
            return std::move(st).error();
        st->bind(1, run_id)
            .bind(2, ++seq)
            .bind(3, e.ts == timestamp{} ? now : e.ts)
            .bind(4, e.type)
            .bind(5, dump(e.payload));
        if (const int rc = st->step(); rc != SQLITE_DONE)
            return write_error(s, rc, run_id, what);
    }
    return seq;
}

phase_record read_phase(const sqlite::statement& st)
{
    phase_record p;
    p.run_id = st.text(0);
    p.phase_id = st.text(1);
    p.status = parse_phase_status(st.text(2)).value_or(phase_status::failed);
    p.output_text = st.text(3);
    if (!st.is_null(4))
        p.output_json = nlohmann::json::parse(st.text(4), nullptr, false);
    p.provider = st.text(5);
    p.model = st.text(6);
    p.input_tokens = st.int64(7);
    p.output_tokens = st.int64(8);
    p.cost_usd = st.real(9);
    p.started = st.opt_time(10);
    p.finished = st.opt_time(11);
    p.error = st.text(12);
    p.attempts = static_cast<int>(st.int64(13));
    return p;
}

#define EP_PHASE_COLUMNS                                                                            \
    "run_id, phase_id, status, output_text, output_json, provider, model, input_tokens, "        \
    "output_tokens, cost_usd, started_ms, finished_ms, error, attempts"

// In the order the phases started (a skipped phase never started: when it was skipped).
constexpr const char* get_phases_sql = "SELECT " EP_PHASE_COLUMNS
                                       " FROM phases WHERE run_id = ?1 ORDER BY COALESCE(started_ms, finished_ms), phase_id";
constexpr const char* get_phase_sql = "SELECT " EP_PHASE_COLUMNS " FROM phases WHERE run_id = ?1 AND phase_id = ?2";

// The upsert refuses (0 rows changed) to overwrite a completed phase: its output is final and a
// resume must load it, never recompute it.
constexpr const char* commit_phase_sql =
    "INSERT INTO phases (" EP_PHASE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT (run_id, phase_id) DO UPDATE SET status = excluded.status,"
    " output_text = excluded.output_text, output_json = excluded.output_json, provider = excluded.provider,"
    " model = excluded.model, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
    " cost_usd = excluded.cost_usd, started_ms = COALESCE(excluded.started_ms, phases.started_ms),"
    " finished_ms = excluded.finished_ms, error = excluded.error, attempts = excluded.attempts"
    " WHERE phases.status <> 'completed'";

#undef EP_PHASE_COLUMNS

constexpr const char* begin_phase_sql =
    "INSERT INTO phases (run_id, phase_id, status, started_ms) VALUES (?1, ?2, 'running', ?3)"
    " ON CONFLICT (run_id, phase_id) DO UPDATE SET status = 'running', started_ms = excluded.started_ms,"
    " finished_ms = NULL, error = '', output_text = '', output_json = NULL"
    " WHERE phases.status <> 'completed'";

}  // namespace

result<void> sqlite_store::begin_phase(const std::string& run_id, const std::string& phase_id)
{
    std::lock_guard lock(impl_->mutex);
    const std::string what = "beginning " + phase_label(run_id, phase_id);
    auto st = impl_->prepare(begin_phase_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id).bind(2, phase_id).bind(3, impl_->now());
    if (const int rc = st->step(); rc != SQLITE_DONE)
        return write_error(*impl_, rc, run_id, what);
    if (sqlite3_changes(impl_->db) == 0)
        return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
    return {};
}

namespace {

// One attempts row; the caller holds the mutex (and, for a checkpoint, the transaction).
result<void> insert_attempt(sqlite_store::impl& db, const attempt_record& a)
{
    auto st = db.prepare(
        "INSERT OR REPLACE INTO attempts (run_id, phase_id, attempt, provider, model, outcome, error,"
        " http_status, latency_ms, started_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!st)
        return std::move(st).error();
    st->bind(1, a.run_id)
        .bind(2, a.phase_id)
        .bind(3, a.attempt)
        .bind(4, a.provider)
        .bind(5, a.model)
        .bind(6, to_string(a.outcome))
        .bind(7, a.error)
        .bind(8, a.http_status)
        .bind(9, static_cast<std::int64_t>(a.latency.count()))
        .bind(10, a.started == timestamp{} ? db.now() : a.started);
    if (const int rc = st->step(); rc != SQLITE_DONE)
        return write_error(db, rc, a.run_id,
                           "recording attempt " + std::to_string(a.attempt) + " of " + phase_label(a.run_id, a.phase_id));
    return {};
}

}  // namespace

result<void> sqlite_store::record_attempt(const attempt_record& a)
{
    std::lock_guard lock(impl_->mutex);
    return insert_attempt(*impl_, a);
}

result<std::int64_t> sqlite_store::commit_phase(const phase_record& p, const std::vector<event_record>& events,
                                                const std::vector<attempt_record>& attempts)
{
    if (p.run_id.empty() || p.phase_id.empty())
        return impl_->fail(persistence_errc::invalid_argument, "commit_phase: the run id or phase id is empty");
    std::lock_guard lock(impl_->mutex);
    const std::string what = "committing " + phase_label(p.run_id, p.phase_id);
    const auto now = impl_->now();
    sqlite::write_transaction txn(*impl_);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    {
        auto st = impl_->prepare(commit_phase_sql);
        if (!st)
            return std::move(st).error();
        st->bind(1, p.run_id)
            .bind(2, p.phase_id)
            .bind(3, to_string(p.status))
            .bind(4, p.output_text)
            .bind(7, p.model)
            .bind(6, p.provider)
            .bind(8, p.input_tokens)
            .bind(9, p.output_tokens)
            .bind(10, p.cost_usd)
            .bind(11, p.started)
            .bind(12, p.finished.value_or(now))
            .bind(13, p.error)
            .bind(14, p.attempts);
        if (p.output_json)
            st->bind(5, dump(*p.output_json));
        else
            st->bind_null(5);
        if (const int rc = st->step(); rc != SQLITE_DONE)
            return write_error(*impl_, rc, p.run_id, what);
        if (sqlite3_changes(impl_->db) == 0)
            return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
    }
    for (const auto& a : attempts)
        if (auto r = insert_attempt(*impl_, a); !r)
            return std::move(r).error();
    auto seq = insert_events(*impl_, p.run_id, events, now, what);
    if (!seq)
        return std::move(seq).error();
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return *seq;
}

result<std::int64_t> sqlite_store::append_events(const std::string& run_id, const std::vector<event_record>& events)
{
    std::lock_guard lock(impl_->mutex);
    const std::string what = "appending events to " + run_label(run_id);
    sqlite::write_transaction txn(*impl_);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    auto seq = insert_events(*impl_, run_id, events, impl_->now(), what);
    if (!seq)
        return std::move(seq).error();
    if (events.empty())
    {
        // Nothing to insert, so no foreign key checked the run: do it here.
        auto exists = run_exists(*impl_, run_id);
        if (!exists)
            return std::move(exists).error();
        if (!*exists)
            return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
    }
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return *seq;
}

result<std::vector<phase_record>> sqlite_store::get_phases(const std::string& run_id)
{
    std::lock_guard lock(impl_->mutex);
    auto exists = run_exists(*impl_, run_id);
    if (!exists)
        return std::move(exists).error();
    if (!*exists)
        return impl_->fail(persistence_errc::not_found, "no " + run_label(run_id));
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

result<phase_record> sqlite_store::get_phase(const std::string& run_id, const std::string& phase_id)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(get_phase_sql);
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id).bind(2, phase_id);
    const int rc = st->step();
    if (rc == SQLITE_DONE)
        return impl_->fail(persistence_errc::not_found, "no " + phase_label(run_id, phase_id));
    if (rc != SQLITE_ROW)
        return impl_->fail(rc, "reading " + phase_label(run_id, phase_id));
    return read_phase(*st);
}

result<std::vector<attempt_record>> sqlite_store::get_attempts(const std::string& run_id,
                                                               const std::optional<std::string>& phase_id)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(
        "SELECT run_id, phase_id, attempt, provider, model, outcome, error, http_status, latency_ms, started_ms"
        " FROM attempts WHERE run_id = ?1 AND (?2 IS NULL OR phase_id = ?2)"
        " ORDER BY started_ms, phase_id, attempt");
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id).bind(2, phase_id);
    std::vector<attempt_record> out;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
    {
        attempt_record a;
        a.run_id = st->text(0);
        a.phase_id = st->text(1);
        a.attempt = static_cast<int>(st->int64(2));
        a.provider = st->text(3);
        a.model = st->text(4);
        a.outcome = parse_attempt_outcome(st->text(5)).value_or(attempt_outcome::failed);
        a.error = st->text(6);
        if (!st->is_null(7))
            a.http_status = static_cast<int>(st->int64(7));
        a.latency = std::chrono::milliseconds(st->int64(8));
        a.started = st->time(9);
        out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "reading the attempts of " + run_label(run_id));
    return out;
}

result<std::vector<event_record>> sqlite_store::get_events(const std::string& run_id, std::int64_t after_seq,
                                                           std::size_t limit)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(
        "SELECT run_id, seq, ts_ms, type, payload FROM events WHERE run_id = ?1 AND seq > ?2"
        " ORDER BY seq LIMIT ?3");
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id).bind(2, after_seq).bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<event_record> out;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
    {
        event_record e;
        e.run_id = st->text(0);
        e.seq = st->int64(1);
        e.ts = st->time(2);
        e.type = st->text(3);
        e.payload = nlohmann::json::parse(st->text(4), nullptr, false);
        out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "reading the events of " + run_label(run_id));
    return out;
}

}  // namespace ep::persistence
