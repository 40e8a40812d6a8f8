// sqlite_store: the attempt records and the append-only event log.

#include "sqlite/writes.hpp"

#include <algorithm>

namespace ep::persistence {

using detail::dump_json;
using detail::run_label;

namespace sqlite {

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

result<void> require_run(sqlite_store::impl& s, const std::string& run_id, const std::string& what)
{
    auto exists = run_exists(s, run_id);
    if (!exists)
        return std::move(exists).error();
    if (!*exists)
        return s.fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
    return {};
}

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
        auto st =
            s.prepare("INSERT INTO events (run_id, seq, ts_ms, type, payload) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!st)
            return std::move(st).error();
        st->bind(1, run_id)
            .bind(2, ++seq)
            .bind(3, e.ts == timestamp{} ? now : e.ts)
            .bind(4, e.type)
            .bind(5, dump_json(e.payload));
        if (const int rc = st->step(); rc != SQLITE_DONE)
            return write_error(s, rc, run_id, what);
    }
    return seq;
}

result<void> insert_attempt(sqlite_store::impl& s, const attempt_record& a)
{
    const auto what = "recording attempt " + std::to_string(a.attempt) + " of " +
                      detail::phase_label(a.run_id, a.phase_id, a.iteration, a.item);
    if (auto bad = detail::check_instance_key(a.iteration, a.item, what))
        return s.fail(persistence_errc::invalid_argument, *bad);
    auto st = s.prepare("INSERT OR REPLACE INTO attempts (run_id, phase_id, iteration, item, attempt,"
                        " provider, model, outcome, error, http_status, latency_ms, started_ms)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st)
        return std::move(st).error();
    st->bind(1, a.run_id)
        .bind(2, a.phase_id)
        .bind(3, a.iteration)
        .bind(4, detail::item_column(a.item))
        .bind(5, a.attempt)
        .bind(6, a.provider)
        .bind(7, a.model)
        .bind(8, to_string(a.outcome))
        .bind(9, a.error)
        .bind(10, a.http_status)
        .bind(11, static_cast<std::int64_t>(a.latency.count()))
        .bind(12, a.started == timestamp{} ? s.now() : a.started);
    if (const int rc = st->step(); rc != SQLITE_DONE)
        return write_error(s, rc, a.run_id, what);
    return {};
}

}  // namespace sqlite

result<void> sqlite_store::record_attempt(const attempt_record& a)
{
    std::lock_guard lock(impl_->mutex);
    return sqlite::insert_attempt(*impl_, a);
}

result<std::int64_t> sqlite_store::append_events(const std::string& run_id,
                                                 const std::vector<event_record>& events)
{
    std::lock_guard lock(impl_->mutex);
    const std::string what = "appending events to " + run_label(run_id);
    sqlite::write_transaction txn(*impl_);
    if (auto r = txn.begin(what.c_str()); !r)
        return std::move(r).error();
    auto seq = sqlite::insert_events(*impl_, run_id, events, impl_->now(), what);
    if (!seq)
        return std::move(seq).error();
    if (events.empty())  // nothing inserted, so no foreign key checked the run: do it here
        if (auto r = sqlite::require_run(*impl_, run_id, what); !r)
            return std::move(r).error();
    if (auto r = txn.commit(what.c_str()); !r)
        return std::move(r).error();
    return *seq;
}

result<std::vector<attempt_record>> sqlite_store::get_attempts(const std::string& run_id,
                                                               const std::optional<std::string>& phase_id)
{
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->prepare(
        "SELECT run_id, phase_id, iteration, item, attempt, provider, model, outcome, error, http_status,"
        " latency_ms, started_ms FROM attempts WHERE run_id = ?1 AND (?2 IS NULL OR phase_id = ?2)"
        " ORDER BY started_ms, phase_id, iteration, item, attempt");
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
        a.iteration = static_cast<int>(st->int64(2));
        a.item = detail::item_from_column(st->int64(3));
        a.attempt = static_cast<int>(st->int64(4));
        a.provider = st->text(5);
        a.model = st->text(6);
        a.outcome = parse_attempt_outcome(st->text(7)).value_or(attempt_outcome::failed);
        a.error = st->text(8);
        if (!st->is_null(9))
            a.http_status = static_cast<int>(st->int64(9));
        a.latency = std::chrono::milliseconds(st->int64(10));
        a.started = st->time(11);
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
    auto st =
        impl_->prepare("SELECT run_id, seq, ts_ms, type, payload FROM events WHERE run_id = ?1 AND seq > ?2"
                       " ORDER BY seq LIMIT ?3");
    if (!st)
        return std::move(st).error();
    st->bind(1, run_id)
        .bind(2, after_seq)
        .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<event_record> out;
    int rc = SQLITE_OK;
    while ((rc = st->step()) == SQLITE_ROW)
    {
        event_record e;
        e.run_id = st->text(0);
        e.seq = st->int64(1);
        e.ts = st->time(2);
        e.type = st->text(3);
        e.payload = detail::parse_json(st->text(4));
        out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE)
        return impl_->fail(rc, "reading the events of " + run_label(run_id));
    return out;
}

}  // namespace ep::persistence
