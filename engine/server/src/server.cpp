// server: configuration checks, start (store, listener, owned runs) and stop.
#include "server_impl.hpp"

#include <ep/runtime/otel.hpp>

#include <spdlog/logger.h>

#include <fstream>

namespace ep::server {

server::impl::impl(boost::asio::io_context& io, runtime::runtime& runtime, server_config config)
    : ioc(io), rt(runtime), cfg(std::move(config)), log(runtime.logger()), registry(runtime, cfg.sse_queue_capacity),
      auth(cfg.tokens), limiter(cfg.rate_limit, cfg.rate_burst > 0 ? cfg.rate_burst : std::max(cfg.rate_limit, 1.0)),
      catalog(cfg.workflow_dirs, runtime.config().workflows_dir),
      openapi(nlohmann::json::parse(embedded_openapi(), nullptr, false))
{
    registry.add_observer(metrics);
    add_run_routes(*this);
    add_event_routes(*this);
    add_gateway_routes(*this);
    add_ops_routes(*this);
    add_static_routes(*this);
}

server::server(boost::asio::io_context& ioc, runtime::runtime& rt, server_config cfg)
    : impl_(std::make_unique<impl>(ioc, rt, std::move(cfg)))
{
}

server::~server()
{
    impl_->stopping = true;
    impl_->close_listener();
}

namespace {

std::optional<std::string> check_config(const server_config& cfg)
{
    const auto colon = cfg.listen.rfind(':');
    const std::string host = colon == std::string::npos ? cfg.listen : cfg.listen.substr(0, colon);
    if (cfg.tokens.empty() && !is_loopback_host(host))
        return "refusing to listen on " + cfg.listen +
               " without authentication: set EP_SERVE_TOKENS or --tokens-file, or listen on 127.0.0.1 / [::1]";
    if (cfg.tls_cert.empty() != cfg.tls_key.empty())
        return std::string("--tls-cert and --tls-key go together");
    if (cfg.rate_limit < 0)
        return std::string("--rate-limit must be 0 (off) or positive");
    if (cfg.default_mix.empty())
        return std::string("--config must name a mix");
    return std::nullopt;
}

std::shared_ptr<asio::ssl::context> load_tls(const server_config& cfg, std::string& error)
{
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cfg.tls_cert.string(), ec);
    if (ec)
    {
        error = "--tls-cert " + cfg.tls_cert.string() + ": " + ec.message();
        return nullptr;
    }
    ctx->use_private_key_file(cfg.tls_key.string(), asio::ssl::context::pem, ec);
    if (ec)
    {
        error = "--tls-key " + cfg.tls_key.string() + ": " + ec.message();
        return nullptr;
    }
    return ctx;
}

}  // namespace

boost::asio::awaitable<std::optional<start_error>> server::start()
{
    auto& s = *impl_;
    if (auto problem = check_config(s.cfg))
        co_return start_error{*problem};
    if (s.openapi.is_discarded())
        co_return start_error{"the embedded OpenAPI document does not parse"};
    if (!s.cfg.tls_cert.empty())
    {
        std::string error;
        s.tls = load_tls(s.cfg, error);
        if (!s.tls)
            co_return start_error{error};
    }
    if (auto opened = s.rt.open_store(); !opened)
        co_return start_error{"the run store " + s.rt.store_location() + " cannot be used: " + opened.error().message};
    if (auto problem = s.listen(); !problem.empty())
        co_return start_error{problem};
    s.log->info("ep-serve listening on {} (store {}, owner {})", base_url(), s.rt.store_location(), s.rt.owner());
    if (s.cfg.resume_owned_runs)
    {
        auto resumed = co_await s.registry.resume_owned();
        if (!resumed.empty())
            s.log->info("resumed {} run(s) this server owned before its restart", resumed.size());
    }
    co_return std::nullopt;
}

boost::asio::awaitable<void> server::stop()
{
    auto& s = *impl_;
    s.stopping = true;
    if (s.acceptor)
    {
        boost::system::error_code ec;
        s.acceptor->close(ec);
    }
    co_await s.registry.stop_all(s.cfg.shutdown_grace);
    if (auto& t = s.rt.tracer())
        t->flush();
    s.close_listener();
}

std::uint16_t server::port() const noexcept
{
    boost::system::error_code ec;
    return impl_->acceptor ? impl_->acceptor->local_endpoint(ec).port() : 0;
}

std::string server::base_url() const
{
    boost::system::error_code ec;
    std::string host = "127.0.0.1";
    if (impl_->acceptor)
    {
        auto addr = impl_->acceptor->local_endpoint(ec).address();
        host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    }
    return std::string(impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port());
}

const server_config& server::config() const noexcept { return impl_->cfg; }
runtime::run_registry& server::registry() noexcept { return impl_->registry; }
std::vector<std::pair<std::string, std::string>> server::routes() const { return impl_->routes.list(); }

}  // namespace ep::server
