// `ep-run --models PROVIDER`: a provider's own model list, marked against the catalogue.
#include "runtime_impl.hpp"

#include <ep/providers/list_models.hpp>

namespace ep::runtime {
namespace {

runtime_error provider_problem(std::string message)
{
    return runtime_error{runtime_errc::invalid_provider, std::move(message), {}};
}

}  // namespace

asio::awaitable<result<model_listing>> runtime::list_models(std::string provider, std::string config)
{
    engine::policy_options popts;
    popts.workflows_dir = impl_->cfg.workflows_dir;
    popts.config = config;
    popts.personas_file = impl_->cfg.personas_file;
    problems found;
    auto pol = engine::load_policy(popts, impl_->cfg.env, found.diag);
    if (!pol)
        co_return runtime_error{runtime_errc::invalid_workflow, "the provider configuration does not load",
                                std::move(found)};
    const auto* cfg = pol->find_provider(provider);
    if (!cfg)
    {
        std::string known;
        for (const auto& [name, p] : pol->providers)
            known += (known.empty() ? "" : ", ") + name;
        co_return provider_problem("unknown provider '" + provider + "' (known: " + known + ")");
    }
    providers::list_models_options opts;
    opts.transport.tls = impl_->tls;
    opts.transport.pool = impl_->pool;
    opts.transport.log = impl_->log;
    opts.transport.timeouts = cfg->timeouts;
    providers::diagnostics diag;
    auto listed = co_await providers::list_models(impl_->ex, *cfg, opts, diag);
    if (!listed)
        co_return provider_problem(provider + ": cannot list models: " +
                                   (diag.message.empty() ? listed.error().message() : diag.message));
    model_listing out;
    out.provider = provider;
    out.base_url = cfg->base_url;
    out.rows = providers::catalogue_rows(*listed, *cfg);
    out.not_listed = providers::catalogue_models_not_listed(*listed, *cfg);
    co_return out;
}

}  // namespace ep::runtime
