// The runtime's reads for long-lived front ends: runs by filter and page, one run, its event
// log — all on the store's own thread, so a server's event loop never waits on disk.
#include "runtime_impl.hpp"

#include <ep/persistence/run_id.hpp>

namespace ep::runtime {

namespace ps = ep::persistence;

result<void> runtime::open_store() { return impl_->ensure_store(store_access::write_create); }

std::string runtime::owner() const
{
    return impl_->cfg.executor.owner.empty() ? ps::default_owner() : impl_->cfg.executor.owner;
}

const engine::failover_executor& runtime::failover() const noexcept { return *impl_->failover; }

asio::awaitable<result<run_list>> runtime::find_runs(run_query query)
{
    run_list out;
    if (!impl_->store)
    {
        if (auto opened = impl_->ensure_store(store_access::read_only); !opened)
        {
            if (opened.error().code != runtime_errc::unknown_run)
                co_return opened.error();
            out.store_missing = true;
            co_return out;
        }
    }
    // The store filters and pages (run_filter); one more than asked says whether more exist.
    ps::run_filter filter;
    filter.status = query.status;
    filter.workflow = query.workflow;
    filter.before_id = query.before_id;
    filter.limit = query.limit + 1;
    auto runs = co_await impl_->store->list_runs(filter);
    if (!runs)
        co_return from_store_error(runs.error());
    for (auto& r : *runs)
    {
        if (out.runs.size() == query.limit)
        {
            out.more = true;
            break;
        }
        r.definition.clear();  // listings never need the YAML
        out.runs.push_back(std::move(r));
    }
    co_return out;
}

asio::awaitable<result<run_details>> runtime::fetch_run(std::string run_id)
{
    if (!impl_->store)
        if (auto opened = impl_->ensure_store(store_access::read_only); !opened)
            co_return opened.error();
    auto& store = *impl_->store;
    auto run = co_await store.get_run(run_id);
    if (!run)
    {
        auto e = from_store_error(run.error());
        if (e.code == runtime_errc::unknown_run)
            e.message = "unknown run id '" + run_id + "'";
        co_return e;
    }
    auto phases = co_await store.get_phases(run_id);
    if (!phases)
        co_return from_store_error(phases.error());
    auto attempts = co_await store.get_attempts(run_id);
    if (!attempts)
        co_return from_store_error(attempts.error());
    co_return run_details{std::move(*run), std::move(*phases), std::move(*attempts)};
}

asio::awaitable<result<std::vector<ps::event_record>>> runtime::fetch_events(std::string run_id,
                                                                               std::int64_t after_seq,
                                                                               std::size_t limit)
{
    if (!impl_->store)
        if (auto opened = impl_->ensure_store(store_access::read_only); !opened)
            co_return opened.error();
    auto events = co_await impl_->store->get_events(run_id, after_seq, limit);
    if (!events)
        co_return from_store_error(events.error());
    co_return std::move(*events);
}

}  // namespace ep::runtime
