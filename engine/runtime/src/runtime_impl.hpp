#pragma once
// The runtime's private state: what every run of the process shares.

#include <ep/runtime/runtime.hpp>

#include <ep/engine/routing/failover.hpp>
#include <ep/engine/routing/rate_limiter.hpp>
#include <ep/engine/routing/time_source.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/providers/http_client.hpp>

#include <boost/asio/ssl/context.hpp>

#include <map>

namespace ep::runtime {

class otel_tracer;

/// How an operation needs the store.
enum class store_access
{
    read_only,       // --list/--show: nothing is created or migrated
    write_existing,  // a resume: a missing store means an unknown run
    write_create,    // a new run: created (with its directory) when missing
};

struct runtime::impl
{
    impl(asio::any_io_executor executor, runtime_config config);

    asio::any_io_executor ex;
    runtime_config cfg;
    std::shared_ptr<spdlog::logger> log;
    // Shared by every provider of every run: keep-alive connections are reused across phases
    // and runs, and TLS sessions with them.
    std::shared_ptr<providers::connection_pool> pool;
    std::shared_ptr<asio::ssl::context> tls;  // made on first use (loading the CA bundle costs ms)
    std::shared_ptr<engine::time_source> time;
    std::shared_ptr<engine::provider_limits> limits;
    std::unique_ptr<engine::failover_executor> failover;
    std::unique_ptr<persistence::async_store> store;
    bool store_writable = false;
    // chat(): the policy, providers and router of each mix, built on first use (chat.cpp).
    struct chat_routes;
    std::map<std::string, std::shared_ptr<chat_routes>> chat_cache;
    // OpenTelemetry export when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing.cpp); else null.
    std::shared_ptr<otel_tracer> tracer;

    std::string store_location() const;
    /// Opens the store as `access` needs it, once; a read-only store is not reopened writable.
    result<void> ensure_store(store_access access);
    /// The policy under mix `config`, with `spec`'s inline sections (null: none, the gateway).
    std::optional<engine::policy> load_policy_for(const engine::workflow_spec* spec, const std::string& config,
                                                  engine::diagnostics& diag) const;
    /// Every available provider of `pol`, sharing the pool, TLS context and logger.
    result<engine::provider_map> build_providers(const engine::policy& pol);
    /// Runs (or resumes) `req` with the run's own providers and the shared failover layer.
    asio::awaitable<result<engine::run_outcome>> execute(const engine::policy& pol, engine::run_request req,
                                                         engine::event_sink& sink, engine::run_control* control,
                                                         const run_options& options);
};

/// A store error as the runtime reports it.
runtime_error from_store_error(const persistence::store_error& e);

/// unroutable, naming each phase that cannot be routed and what to set.
runtime_error unroutable_error(const engine::routing_explanation& routing);

}  // namespace ep::runtime
