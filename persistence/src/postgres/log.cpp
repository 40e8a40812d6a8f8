// postgres_store: the attempt records and the append-only event log.

#include "postgres/log.hpp"

#include "postgres/store_impl.hpp"
#include "postgres/text.hpp"

#include <algorithm>

namespace ep::persistence {

using detail::run_label;
using postgres::storable_text;

namespace postgres {

std::string attempts_json(const std::vector<attempt_record>& attempts, timestamp now)
{
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& a : attempts)
        rows.push_back(nlohmann::json::array(
            {a.run_id, a.phase_id, a.iteration, detail::item_column(a.item), a.attempt,
             storable_text(a.provider), storable_text(a.model), to_string(a.outcome), storable_text(a.error),
             a.http_status ? nlohmann::json(*a.http_status) : nlohmann::json(), a.latency.count(),
             ms(a.started == timestamp{} ? now : a.started)}));
    return detail::dump_json(rows);
}

std::string events_json(const std::vector<event_record>& events, timestamp now)
{
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& e : events)
        rows.push_back(
            nlohmann::json::array({ms(e.ts == timestamp{} ? now : e.ts), storable_text(e.type), e.payload}));
    return detail::dump_json(rows);
}

}  // namespace postgres

result<void> postgres_store::record_attempt(const attempt_record& a)
{
    const auto what = "recording attempt " + std::to_string(a.attempt) + " of " +
                      detail::phase_label(a.run_id, a.phase_id, a.iteration, a.item);
    if (auto bad = detail::check_instance_key(a.iteration, a.item, what))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    return impl_->write_single(what, [&](pqxx::transaction_base& txn) -> result<void> {
        txn.exec_prepared("record_attempt", a.run_id, a.phase_id, a.iteration, detail::item_column(a.item),
                          a.attempt, storable_text(a.provider), storable_text(a.model),
                          std::string(to_string(a.outcome)), storable_text(a.error), a.http_status,
                          static_cast<std::int64_t>(a.latency.count()),
                          postgres::ms(a.started == timestamp{} ? impl_->now() : a.started));
        return {};
    });
}

result<std::int64_t> postgres_store::append_events(const std::string& run_id,
                                                   const std::vector<event_record>& events)
{
    std::lock_guard lock(impl_->mutex);
    const std::string what = "appending events to " + run_label(run_id);
    return impl_->write_single(what, [&](pqxx::transaction_base& txn) -> result<std::int64_t> {
        std::int64_t last = 0;
        if (!events.empty())
            for (const auto& row :
                 txn.exec_prepared("append_events", run_id, postgres::events_json(events, impl_->now())))
                last = std::max(last, row[0].as<std::int64_t>());
        if (last == 0 && !postgres::run_exists(txn, run_id))  // nothing appended: was there a run?
            return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
        return last;
    });
}

result<std::vector<attempt_record>> postgres_store::get_attempts(const std::string& run_id,
                                                                 const std::optional<std::string>& phase_id)
{
    std::lock_guard lock(impl_->mutex);
    return impl_->read(
        "reading the attempts of " + run_label(run_id),
        [&](pqxx::transaction_base& txn) -> result<std::vector<attempt_record>> {
            std::vector<attempt_record> out;
            for (const auto& row : txn.exec_prepared("get_attempts", run_id, phase_id))
            {
                attempt_record a;
                a.run_id = row[0].as<std::string>();
                a.phase_id = row[1].as<std::string>();
                a.iteration = row[2].as<int>();
                a.item = detail::item_from_column(row[3].as<std::int64_t>());
                a.attempt = row[4].as<int>();
                a.provider = row[5].as<std::string>();
                a.model = row[6].as<std::string>();
                a.outcome = parse_attempt_outcome(row[7].as<std::string>()).value_or(attempt_outcome::failed);
                a.error = row[8].as<std::string>();
                if (!row[9].is_null())
                    a.http_status = row[9].as<int>();
                a.latency = std::chrono::milliseconds(row[10].as<std::int64_t>());
                a.started = postgres::time(row[11]);
                out.push_back(std::move(a));
            }
            return out;
        });
}

result<std::vector<event_record>> postgres_store::get_events(const std::string& run_id,
                                                             std::int64_t after_seq, std::size_t limit)
{
    std::lock_guard lock(impl_->mutex);
    const auto n = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
    return impl_->read("reading the events of " + run_label(run_id),
                       [&](pqxx::transaction_base& txn) -> result<std::vector<event_record>> {
                           std::vector<event_record> out;
                           for (const auto& row : txn.exec_prepared("get_events", run_id, after_seq, n))
                           {
                               event_record e;
                               e.run_id = row[0].as<std::string>();
                               e.seq = row[1].as<std::int64_t>();
                               e.ts = postgres::time(row[2]);
                               e.type = row[3].as<std::string>();
                               e.payload = detail::parse_json(row[4].as<std::string>());
                               out.push_back(std::move(e));
                           }
                           return out;
                       });
}

}  // namespace ep::persistence
