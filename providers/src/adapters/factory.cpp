// make_provider: configuration → adapter, through the codec table.

#include "adapters/claude_agent.hpp"
#include "adapters/http_provider.hpp"

#include <ep/providers/factory.hpp>
#include <ep/providers/options.hpp>
#include <ep/providers/tls.hpp>

#include <stdexcept>

namespace ep::providers {

namespace {

std::shared_ptr<asio::ssl::context> tls_context_for(const provider_config& cfg, provider_deps& deps,
                                                    const std::string& who)
{
    if (!cfg.ca_file.empty())
    {
        auto tls = make_tls_context(cfg.ca_file);
        if (!tls)
            throw std::invalid_argument(who + ": cannot load CA file '" + cfg.ca_file + "': " + tls.error().message());
        return *tls;
    }
    if (deps.tls)
        return std::move(deps.tls);
    auto tls = make_tls_context();
    if (!tls)
        throw std::invalid_argument(who + ": cannot load the system CA bundle: " + tls.error().message());
    return *tls;
}

std::unique_ptr<provider> make_http_provider(asio::any_io_executor ex, const provider_config& cfg,
                                             provider_deps deps, const sansio::http_codec& codec,
                                             const std::string& who)
{
    auto endpoint = http_endpoint::parse(cfg.base_url);
    if (!endpoint)
        throw std::invalid_argument(who + ": base URL '" + cfg.base_url + "' is not an http:// or https:// URL");

    transport_options opts;
    opts.timeouts = cfg.timeouts;
    opts.verify_peer = cfg.verify_peer;
    opts.pool = std::move(deps.pool);
    opts.log = deps.log;
    if (endpoint->tls)
    {
        opts.tls = tls_context_for(cfg, deps, who);
        const proxy_settings proxy = deps.proxy ? *deps.proxy : proxy_settings::from_environment();
        opts.proxy = proxy.proxy_for(*endpoint);
    }
    return std::make_unique<adapters::http_provider>(std::move(ex), cfg, std::move(*endpoint), std::move(opts), codec,
                                                     std::move(deps.secrets));
}

}  // namespace

std::unique_ptr<provider> make_provider(asio::any_io_executor ex, const provider_config& cfg, provider_deps deps)
{
    const std::string who = "provider '" + cfg.name + "'";
    auto const* row = sansio::find_protocol(cfg.type);
    if (!row)
    {
        std::string known;
        for (auto const& t : known_provider_types())
            known += (known.empty() ? "" : ", ") + t;
        throw std::invalid_argument(who + ": unknown type '" + cfg.type + "' (expected " + known + ")");
    }
    if (auto const* http = std::get_if<sansio::http_codec>(&row->codec))
        return make_http_provider(std::move(ex), cfg, std::move(deps), *http, who);
    return std::make_unique<adapters::claude_agent_provider>(std::move(ex), cfg, std::get<sansio::cli_codec>(row->codec),
                                                             std::move(deps.env), std::move(deps.log),
                                                             std::move(deps.secrets));
}

}  // namespace ep::providers
