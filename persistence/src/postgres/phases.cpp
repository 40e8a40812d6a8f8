// postgres_store: phase instances — begin, the one-transaction checkpoint, reads, and the copy
// a fork starts from.

#include "postgres/log.hpp"
#include "postgres/store_impl.hpp"
#include "postgres/text.hpp"

namespace ep::persistence {

using detail::phase_label;
using detail::run_label;
using postgres::storable_text;

namespace {

// A row of EP_PG_PHASE_COLUMNS (statements.cpp).
phase_record read_phase(const pqxx::row& row)
{
    phase_record p;
    p.run_id = postgres::text_of(row[0]);
    p.phase_id = postgres::text_of(row[1]);
    p.iteration = row[2].as<int>(1);
    p.item = detail::item_from_column(row[3].as<std::int64_t>(detail::no_item));
    p.status = parse_phase_status(postgres::text_of(row[4])).value_or(phase_status::failed);
    p.output_text = postgres::text_of(row[5]);
    if (!row[6].is_null())
        p.output_json = detail::parse_json(row[6].as<std::string>());
    p.provider = postgres::text_of(row[7]);
    p.model = postgres::text_of(row[8]);
    p.input_tokens = row[9].as<std::int64_t>(0);
    p.output_tokens = row[10].as<std::int64_t>(0);
    if (row[11].is_null())
        p.cost_usd = std::nullopt;
    else
        p.cost_usd = row[11].as<double>();
    p.started = postgres::opt_time(row[12]);
    p.finished = postgres::opt_time(row[13]);
    p.error = postgres::text_of(row[14]);
    p.attempts = row[15].as<int>(0);
    return p;
}

// Runs the one-statement checkpoint; false when a completed instance refused it.
struct checkpoint_outcome
{
    bool fenced_out = false;  // the lease this store held was taken over: nothing written
    bool written = false;
    std::int64_t last_seq = 0;
};

checkpoint_outcome run_checkpoint(pqxx::transaction_base& txn, const phase_record& p,
                                  const std::vector<event_record>& events,
                                  const std::vector<attempt_record>& attempts, timestamp now,
                                  std::optional<std::int64_t> fence)
{
    const auto json =
        p.output_json ? std::optional<std::string>(detail::dump_json(*p.output_json)) : std::nullopt;
    const auto row = txn.exec_prepared1(
        "commit_phase", p.run_id, p.phase_id, p.iteration, detail::item_column(p.item),
        std::string(to_string(p.status)), storable_text(p.output_text), json, storable_text(p.provider),
        storable_text(p.model), p.input_tokens, p.output_tokens, p.cost_usd, postgres::opt_ms(p.started),
        postgres::ms(p.finished.value_or(now)), storable_text(p.error), p.attempts,
        postgres::attempts_json(attempts, now), postgres::events_json(events, now), fence);
    return {row[0].as<std::int64_t>() == 0, row[1].as<std::int64_t>() == 1, row[2].as<std::int64_t>()};
}

}  // namespace

result<void> postgres_store::begin_phase(const std::string& run_id, const std::string& phase_id,
                                         int iteration, std::optional<int> item)
{
    const std::string what = "beginning " + phase_label(run_id, phase_id, iteration, item);
    if (auto bad = detail::check_instance_key(iteration, item, what))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    return impl_->write_single(what, [&](pqxx::transaction_base& txn) -> result<void> {
        const auto fence = impl_->fence_of(run_id);
        if (txn.exec_prepared("begin_phase", run_id, phase_id, iteration, detail::item_column(item),
                              postgres::ms(impl_->now()), fence)
                .affected_rows() == 0)
        {
            if (!postgres::run_exists(txn, run_id))
                return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
            if (fence && txn.exec_prepared("fence_is", run_id, *fence).empty())
                return impl_->lease_lost(run_id, what);
            return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
        }
        return {};
    });
}

result<std::int64_t> postgres_store::commit_phase(const phase_record& p,
                                                  const std::vector<event_record>& events,
                                                  const std::vector<attempt_record>& attempts)
{
    const std::string what = "committing " + phase_label(p.run_id, p.phase_id, p.iteration, p.item);
    if (auto bad = detail::check_checkpoint(p, attempts, what))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    return impl_->write_single(what, [&](pqxx::transaction_base& txn) -> result<std::int64_t> {
        const auto outcome = run_checkpoint(txn, p, events, attempts, now, impl_->fence_of(p.run_id));
        if (outcome.fenced_out)
        {
            if (!postgres::run_exists(txn, p.run_id))
                return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(p.run_id));
            return impl_->lease_lost(p.run_id, what);
        }
        if (!outcome.written)
            return impl_->fail(persistence_errc::invalid_state, what + ": it is already completed");
        return outcome.last_seq;
    });
}

result<std::vector<phase_record>> postgres_store::get_phases(const std::string& run_id)
{
    std::lock_guard lock(impl_->mutex);
    return impl_->read("reading the phases of " + run_label(run_id),
                       [&](pqxx::transaction_base& txn) -> result<std::vector<phase_record>> {
                           const auto rows = txn.exec_prepared("get_phases", run_id);
                           if (rows.empty())
                               return impl_->fail(persistence_errc::not_found, "no " + run_label(run_id));
                           std::vector<phase_record> out;
                           for (const auto& row : rows)
                               if (!row[0].is_null())  // a run without phases: one row of NULLs
                                   out.push_back(read_phase(row));
                           return out;
                       });
}

result<phase_record> postgres_store::get_phase(const std::string& run_id, const std::string& phase_id,
                                               int iteration, std::optional<int> item)
{
    std::lock_guard lock(impl_->mutex);
    const auto label = phase_label(run_id, phase_id, iteration, item);
    return impl_->read("reading " + label, [&](pqxx::transaction_base& txn) -> result<phase_record> {
        const auto rows =
            txn.exec_prepared("get_phase", run_id, phase_id, iteration, detail::item_column(item));
        if (rows.empty())
            return impl_->fail(persistence_errc::not_found, "no " + label);
        return read_phase(rows[0]);
    });
}

result<void> postgres_store::copy_phases(const std::string& from_run, const std::string& to_run,
                                         const std::vector<std::string>& phase_ids)
{
    const std::string what = "copying phases from " + run_label(from_run) + " to " + run_label(to_run);
    if (from_run == to_run)
        return impl_->fail(persistence_errc::invalid_argument, what + ": a run cannot be copied into itself");
    std::lock_guard lock(impl_->mutex);
    return impl_->write(what, [&](pqxx::transaction_base& txn) -> result<void> {
        for (const auto* run : {&from_run, &to_run})
            if (!postgres::run_exists(txn, *run))
                return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(*run));
        for (const auto& phase_id : phase_ids)
        {
            const auto completed =
                txn.exec_prepared1("count_completed", from_run, phase_id)[0].as<std::int64_t>();
            const auto copied = txn.exec_prepared("copy_phase", from_run, to_run, phase_id).affected_rows();
            if (static_cast<std::int64_t>(copied) != completed)  // a completed target instance stayed
                return impl_->fail(persistence_errc::invalid_state,
                                   what + ": " + run_label(to_run) +
                                       " already has completed instances of phase '" + phase_id + "'");
            txn.exec_prepared("copy_attempts", from_run, to_run, phase_id);
        }
        return {};
    });
}

}  // namespace ep::persistence
