// The providers of one run: every available provider of its policy, built on the runtime's
// shared connection pool, TLS context and logger.
#include "runtime_impl.hpp"

#include <ep/providers/factory.hpp>
#include <ep/providers/tls.hpp>

#include <stdexcept>

namespace ep::runtime {

result<engine::provider_map> runtime::impl::build_providers(const engine::policy& pol)
{
    engine::provider_map out;
    for (const auto& [name, cfg_] : pol.providers)
    {
        if (!cfg_.available)
            continue;
        if (cfg.make_provider)
        {
            if (auto made = cfg.make_provider(cfg_))
                out[name] = std::move(made);
            continue;
        }
        if (!tls && cfg_.base_url.rfind("https:", 0) == 0 && cfg_.ca_file.empty())
        {
            auto made = providers::make_tls_context();
            if (!made)
                return runtime_error{runtime_errc::invalid_provider,
                                     "cannot load the system CA bundle: " + made.error().message(), {}};
            tls = *made;
        }
        providers::provider_deps deps;
        deps.tls = tls;
        deps.pool = pool;
        deps.log = log;
        try
        {
            out[name] = providers::make_provider(ex, cfg_, std::move(deps));
        }
        catch (const std::invalid_argument& e)
        {
            return runtime_error{runtime_errc::invalid_provider, e.what(), {}};
        }
    }
    return out;
}

}  // namespace ep::runtime
