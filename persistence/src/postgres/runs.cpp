// postgres_store: runs and their lease.

#include "postgres/store_impl.hpp"
#include "postgres/text.hpp"

namespace ep::persistence {

using detail::run_label;
using postgres::storable_text;

namespace {

// A row of EP_PG_RUN_COLUMNS (statements.cpp).
run_record read_run(const pqxx::row& row)
{
    run_record r;
    r.id = postgres::text_of(row[0]);
    r.workflow = postgres::text_of(row[1]);
    r.definition = postgres::text_of(row[2]);
    r.definition_hash = postgres::text_of(row[3]);
    r.inputs = detail::parse_json(postgres::text_of(row[4]));
    r.mix = postgres::text_of(row[5]);
    r.status = parse_run_status(postgres::text_of(row[6])).value_or(run_status::failed);
    r.error = postgres::text_of(row[7]);
    r.owner = postgres::text_of(row[8]);
    r.heartbeat = postgres::opt_time(row[9]);
    r.created = postgres::time(row[10]);
    r.updated = postgres::time(row[11]);
    r.finished = postgres::opt_time(row[12]);
    r.totals.input_tokens = row[13].as<std::int64_t>(0);
    r.totals.output_tokens = row[14].as<std::int64_t>(0);
    r.totals.cost_usd = row[15].as<double>(0.0);
    r.totals.phases_completed = row[16].as<int>(0);
    r.totals.phases_failed = row[17].as<int>(0);
    r.totals.duration = r.finished.value_or(r.updated) - r.created;
    r.options = detail::parse_json(postgres::text_of(row[18]));
    r.parent_run_id = postgres::text_of(row[19]);
    r.parent_phase = postgres::text_of(row[20]);
    r.totals.unpriced_phases = row[21].as<int>(0);
    return r;
}

result<run_record> get_run_in(postgres_store::impl& s, pqxx::transaction_base& txn, const std::string& run_id)
{
    const auto rows = txn.exec_prepared("get_run", run_id);
    if (rows.empty())
        return s.fail(persistence_errc::not_found, "no " + run_label(run_id));
    return read_run(rows[0]);
}

// Runs a single-row UPDATE of one run; not_found when the run does not exist.
template <class... Args>
result<void> update_run(postgres_store::impl& s, const std::string& what, const std::string& run_id,
                        const char* statement, Args&&... args)
{
    return s.write_single(what, [&](pqxx::transaction_base& txn) -> result<void> {
        if (txn.exec_prepared(statement, run_id, std::forward<Args>(args)...).affected_rows() == 0)
            return s.fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
        return {};
    });
}

// Who holds the run's lease, for the messages of a refused lease call.
struct lease_holder
{
    std::string owner;
    std::optional<std::int64_t> heartbeat_age_ms;
};

result<lease_holder> holder_of(postgres_store::impl& s, pqxx::transaction_base& txn,
                               const std::string& run_id)
{
    const auto rows = txn.exec_prepared("lease_holder", run_id, s.clock_ms());
    if (rows.empty())
        return s.fail(persistence_errc::not_found, "no " + run_label(run_id));
    lease_holder h{postgres::text_of(rows[0][0]), std::nullopt};
    if (!rows[0][1].is_null())
        h.heartbeat_age_ms = rows[0][2].as<std::int64_t>() - rows[0][1].as<std::int64_t>();
    return h;
}

}  // namespace

result<run_record> postgres_store::create_run(run_record run)
{
    const auto now = impl_->now();
    if (auto bad = detail::prepare_new_run(run, now))
        return impl_->fail(persistence_errc::invalid_argument, *bad);
    std::lock_guard lock(impl_->mutex);
    return impl_->write_single(
        "creating " + run_label(run.id), [&](pqxx::transaction_base& txn) -> result<run_record> {
            const auto row = txn.exec_prepared1(
                "create_run", run.id, storable_text(run.workflow), storable_text(run.definition),
                run.definition_hash, detail::dump_json(run.inputs), storable_text(run.mix),
                std::string(to_string(run.status)), storable_text(run.error),
                postgres::or_null(storable_text(run.owner)), impl_->clock_ms(), postgres::ms(now),
                postgres::opt_ms(run.finished), detail::dump_json(run.options), run.parent_run_id,
                run.parent_phase);
            run.heartbeat = postgres::opt_time(row[0]);
            if (!run.owner.empty())
                impl_->fences[run.id] = row[1].as<std::int64_t>();
            return run;
        });
}

result<run_record> postgres_store::get_run(const std::string& run_id)
{
    std::lock_guard lock(impl_->mutex);
    return impl_->read("reading " + run_label(run_id),
                       [&](pqxx::transaction_base& txn) { return get_run_in(*impl_, txn, run_id); });
}

result<std::vector<run_record>> postgres_store::list_runs(const run_filter& filter)
{
    std::lock_guard lock(impl_->mutex);
    return impl_->read("listing runs", [&](pqxx::transaction_base& txn) -> result<std::vector<run_record>> {
        const auto status = filter.status ? std::optional<std::string>(to_string(*filter.status))
                                          : std::optional<std::string>();
        const auto limit = static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX));
        std::vector<run_record> out;
        for (const auto& row :
             txn.exec_prepared("list_runs", status, filter.workflow, limit, filter.before_id))
            out.push_back(read_run(row));
        return out;
    });
}

result<void> postgres_store::set_run_status(const std::string& run_id, run_status status,
                                            const std::string& error)
{
    std::lock_guard lock(impl_->mutex);
    const auto now = impl_->now();
    const auto finished = is_finished(status) ? std::optional<std::int64_t>(postgres::ms(now)) : std::nullopt;
    const std::string what = "setting the status of " + run_label(run_id);
    const auto fence = impl_->fence_of(run_id);
    auto r = impl_->write_single(what, [&](pqxx::transaction_base& txn) -> result<void> {
        if (txn.exec_prepared("set_run_status", run_id, std::string(to_string(status)), storable_text(error),
                              postgres::ms(now), finished, fence)
                .affected_rows() == 1)
            return {};
        if (!postgres::run_exists(txn, run_id))
            return impl_->fail(persistence_errc::not_found, what + ": no " + run_label(run_id));
        return impl_->lease_lost(run_id, what);
    });
    if (r && status == run_status::waiting)
        impl_->fences.erase(run_id);  // entering `waiting` freed the lease
    return r;
}

result<void> postgres_store::set_run_mix(const std::string& run_id, const std::string& mix)
{
    std::lock_guard lock(impl_->mutex);
    return update_run(*impl_, "setting the mix of " + run_label(run_id), run_id, "set_run_mix",
                      storable_text(mix), postgres::ms(impl_->now()));
}

result<void> postgres_store::set_run_options(const std::string& run_id, const nlohmann::json& options)
{
    std::lock_guard lock(impl_->mutex);
    return update_run(*impl_, "setting the options of " + run_label(run_id), run_id, "set_run_options",
                      detail::dump_json(options), postgres::ms(impl_->now()));
}

// ---- lease ---------------------------------------------------------------------------------

result<run_record> postgres_store::acquire_lease(const std::string& run_id, const std::string& owner,
                                                 std::chrono::milliseconds ttl)
{
    if (owner.empty())
        return impl_->fail(persistence_errc::invalid_argument, "acquire_lease: the owner is empty");
    std::lock_guard lock(impl_->mutex);
    const std::string what = "acquiring the lease of " + run_label(run_id);
    // One statement takes a free, own or stale lease; its row lock orders racing acquirers,
    // and the loser re-reads the winner's fresh heartbeat (READ COMMITTED), so it is refused.
    return impl_->write(what, [&](pqxx::transaction_base& txn) -> result<run_record> {
        const auto taken = txn.exec_prepared("acquire_lease", run_id, storable_text(owner), impl_->clock_ms(),
                                             static_cast<std::int64_t>(ttl.count()));
        if (taken.empty())
        {
            auto holder = holder_of(*impl_, txn, run_id);
            if (!holder)
                return std::move(holder).error();
            return impl_->fail(persistence_errc::lease_held,
                               run_label(run_id) + " is owned by " + holder->owner + " (last heartbeat " +
                                   std::to_string(holder->heartbeat_age_ms.value_or(0)) +
                                   " ms ago, lease ttl " + std::to_string(ttl.count()) + " ms)");
        }
        auto run = get_run_in(*impl_, txn, run_id);
        if (run)
            impl_->fences[run_id] = taken[0][1].as<std::int64_t>();
        return run;
    });
}

result<void> postgres_store::renew_lease(const std::string& run_id, const std::string& owner)
{
    std::lock_guard lock(impl_->mutex);
    // The heartbeat every few seconds: one autocommit statement (the read after it only explains
    // a refusal).
    return impl_->write_single(
        "renewing the lease of " + run_label(run_id), [&](pqxx::transaction_base& txn) -> result<void> {
            if (txn.exec_prepared("renew_lease", run_id, storable_text(owner), impl_->clock_ms(),
                                  impl_->fence_of(run_id))
                    .affected_rows() == 1)
                return {};
            auto holder = holder_of(*impl_, txn, run_id);
            if (!holder)
                return std::move(holder).error();
            return impl_->fail(persistence_errc::lease_held,
                               run_label(run_id) + " is no longer owned by " + owner + " (owner now: " +
                                   (holder->owner.empty() ? "nobody" : holder->owner) + ")");
        });
}

result<void> postgres_store::release_lease(const std::string& run_id, const std::string& owner)
{
    std::lock_guard lock(impl_->mutex);
    return impl_->write(
        "releasing the lease of " + run_label(run_id), [&](pqxx::transaction_base& txn) -> result<void> {
            const auto freed = txn.exec_prepared1("release_lease", run_id, storable_text(owner),
                                                  impl_->fence_of(run_id))[0]
                                   .as<std::int64_t>();
            if (freed == 1)
            {
                impl_->fences.erase(run_id);
                return {};
            }
            auto holder = holder_of(*impl_, txn, run_id);
            if (!holder)
                return std::move(holder).error();
            if (holder->owner.empty())
                return {};
            return impl_->fail(persistence_errc::lease_held,
                               run_label(run_id) + " is owned by " + holder->owner + ", not " + owner);
        });
}

}  // namespace ep::persistence
