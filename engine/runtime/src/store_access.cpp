// The store behind a runtime: located by URI, opened once in the mode the first operation
// needs, errors mapped to runtime_errc.
#include "runtime_impl.hpp"

#include <ep/engine/workspace/errors.hpp>
#include <ep/persistence/open_store.hpp>

namespace ep::runtime {

namespace ps = ep::persistence;

runtime_error from_store_error(const ps::store_error& e)
{
    using ps::persistence_errc;
    // The executor refuses bad input about the workspace (a dirty checkout, another directory
    // than the run's) before it writes anything, with the workspace error as the cause.
    if (e.cause == engine::git_errc::dirty_checkout || e.cause == engine::workspace_errc::other_workspace)
        return runtime_error{runtime_errc::invalid_input, e.message, {}};
    runtime_errc code = runtime_errc::store_failed;
    if (e.code == persistence_errc::not_found)
        code = runtime_errc::unknown_run;
    else if (e.code == persistence_errc::lease_held)
        code = runtime_errc::lease_held;
    else if (e.code == persistence_errc::schema_too_new || e.code == persistence_errc::corrupt ||
             e.code == persistence_errc::read_only || e.code == persistence_errc::invalid_state ||
             e.code == persistence_errc::invalid_argument)
        code = runtime_errc::store_unusable;
    return runtime_error{code, e.to_string(), {}};
}

std::string runtime::impl::store_location() const
{
    if (!cfg.store.empty())
        return cfg.store;
    if (auto v = cfg.env.get("EP_DB"))
        return *v;
    return (std::filesystem::path(".ep") / "runs.db").string();
}

result<void> runtime::impl::ensure_store(store_access access)
{
    const bool writable = access != store_access::read_only;
    if (store && (store_writable || !writable))
        return {};
    const std::string location = store_location();
    auto parsed = ps::parse_store_uri(location);
    if (!parsed)
        return from_store_error(parsed.error());
    std::error_code ec;
    // A resume never creates a store: a missing SQLite file means the run id is unknown.
    if (access == store_access::write_existing && parsed->backend == ps::store_location::backend_kind::sqlite &&
        !std::filesystem::exists(parsed->target, ec))
        return runtime_error{runtime_errc::unknown_run, "no run store at " + parsed->target, {}};
    ps::store_options o;
    o.sync = cfg.durability;
    o.read_only = !writable;
    auto opened = ps::open_store(location, o);
    if (!opened)
    {
        auto err = from_store_error(opened.error());
        if (opened.error().code == ps::persistence_errc::not_found)
            err.message = "no run store at " + ps::redact_store_uri(location);
        return err;
    }
    store.reset();  // a read-only store is replaced by the writable one
    store = std::make_unique<ps::async_store>(std::shared_ptr<ps::store>(std::move(*opened)));
    store_writable = writable;
    return {};
}

}  // namespace ep::runtime
