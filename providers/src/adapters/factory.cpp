// make_provider: configuration → adapter.

#include "adapters/claude_agent.hpp"
#include "adapters/http_provider.hpp"

#include <ep/providers/factory.hpp>
#include <ep/providers/tls.hpp>

#include <stdexcept>

namespace ep::providers {

std::unique_ptr<provider> make_provider(asio::any_io_executor ex, const provider_config& cfg, provider_deps deps)
{
    const std::string who = "provider '" + cfg.name + "'";
    if (cfg.type == "claude_agent")
        return std::make_unique<adapters::claude_agent_provider>(std::move(ex), cfg, std::move(deps.log));

    adapters::http_codec codec;
    if (cfg.type == "openai")
        codec = adapters::openai_codec();
    else if (cfg.type == "anthropic")
        codec = adapters::anthropic_codec();
    else if (cfg.type == "gemini")
        codec = adapters::gemini_codec();
    else
        throw std::invalid_argument(who + ": unknown type '" + cfg.type +
                                    "' (expected openai, anthropic, gemini or claude_agent)");

    auto endpoint = http_endpoint::parse(cfg.base_url);
    if (!endpoint)
        throw std::invalid_argument(who + ": base URL '" + cfg.base_url + "' is not an http:// or https:// URL");

    transport_options opts;
    opts.timeouts = cfg.timeouts;
    opts.verify_peer = cfg.verify_peer;
    opts.pool = std::move(deps.pool);
    opts.log = std::move(deps.log);
    if (endpoint->tls)
    {
        if (!cfg.ca_file.empty())
        {
            auto tls = make_tls_context(cfg.ca_file);
            if (!tls)
                throw std::invalid_argument(who + ": cannot load CA file '" + cfg.ca_file +
                                            "': " + tls.error().message());
            opts.tls = *tls;
        }
        else if (deps.tls)
        {
            opts.tls = std::move(deps.tls);
        }
        else
        {
            auto tls = make_tls_context();
            if (!tls)
                throw std::invalid_argument(who + ": cannot load the system CA bundle: " + tls.error().message());
            opts.tls = *tls;
        }
        const proxy_settings proxy = deps.proxy ? *deps.proxy : proxy_settings::from_environment();
        opts.proxy = proxy.proxy_for(*endpoint);
    }
    return std::make_unique<adapters::http_provider>(std::move(ex), cfg, std::move(*endpoint), std::move(opts),
                                                     std::move(codec));
}

}  // namespace ep::providers
