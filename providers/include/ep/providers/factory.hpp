#pragma once
// Building a provider from its configuration.

#include <ep/providers/config.hpp>
#include <ep/providers/http_client.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio::ssl { class context; }
namespace spdlog { class logger; }
namespace ep { class environment; }

namespace ep::providers {

/// What the providers of one engine share. Every member may be null/empty: the factory then
/// makes its own (a system-bundle TLS context, no pooling, the proxy from the environment,
/// no logging, the environment loaded at each CLI call).
struct provider_deps
{
    std::shared_ptr<boost::asio::ssl::context> tls;  // used unless the config names a ca_file
    std::shared_ptr<connection_pool> pool;
    std::optional<proxy_settings> proxy;  // nullopt: HTTPS_PROXY / NO_PROXY from the environment
    std::shared_ptr<spdlog::logger> log;
    /// Where claude_agent looks for the CLI (locate_claude_cli); null → ep::environment::load()
    /// (the real environment plus ./.env) at each call. Pass the one the policy was loaded
    /// with, so that both agree.
    std::shared_ptr<const ep::environment> env;
    /// Secrets besides the provider's own key (e.g. every configured key) that must never
    /// appear in a call's diagnostics; the provider's own api_key is always scrubbed.
    std::vector<std::string> secrets;
};

/// The provider for `cfg.type`, a row of the codec table (options.hpp: known_provider_types),
/// bound to `ex`.
///
/// Checks what can be checked without a call: the type, the base URL (http or https) and the
/// CA file. A missing Claude Code CLI is reported by the call (provider_errc::cli_missing), so
/// that the router can fall back.
///
/// @throws std::invalid_argument with a message naming the provider when the configuration
/// is unusable (unknown type, bad base URL, unreadable CA file). Configuration is validated
/// when it is loaded, so this is a programming error at this point.
std::unique_ptr<provider> make_provider(boost::asio::any_io_executor ex, const provider_config& cfg,
                                        provider_deps deps = {});

}  // namespace ep::providers
