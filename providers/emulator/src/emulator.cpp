#include "ep/emulator/emulator.hpp"

#include "server_core.hpp"
#include "tls_cert.hpp"
#include <ep/thread_signals.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <thread>

namespace ep::emulator {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace detail {

server_core::server_core(emulator_config cfg, std::shared_ptr<spdlog::logger> logger)
    : config(std::move(cfg)),
      log(std::move(logger)),
      state(config.max_logged_requests),
      openai(make_openai_protocol()),
      anthropic(make_anthropic_protocol(config.anthropic_ping_every)),
      gemini(make_gemini_protocol(true)),
      responses(make_responses_protocol())
{
}

bool server_core::add_connection(std::uint64_t id, std::function<void()> closer)
{
    std::lock_guard lock(mutex_);
    if (stopping)
        return false;
    closers_.emplace(id, std::move(closer));
    return true;
}

void server_core::remove_connection(std::uint64_t id)
{
    std::lock_guard lock(mutex_);
    closers_.erase(id);
}

void server_core::close_all_connections()
{
    std::map<std::uint64_t, std::function<void()>> closers;
    {
        std::lock_guard lock(mutex_);
        closers = closers_;
    }
    for (auto& [id, close] : closers)
        close();
}

}  // namespace detail

struct emulator::impl
{
    std::shared_ptr<detail::server_core> core;
    std::optional<asio::io_context> own_ioc;  // own-thread mode only
    asio::any_io_executor executor;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::shared_ptr<tcp::acceptor> acceptor;
    detail::generated_tls pki;
    std::uint16_t port = 0;
    bool started = false;
    bool stopped = false;
    std::mutex mutex;  // start/stop
};

namespace {

std::shared_ptr<spdlog::logger> logger_or_null(std::shared_ptr<spdlog::logger> logger)
{
    if (logger)
        return logger;
    return std::make_shared<spdlog::logger>("ep-emulator", std::make_shared<spdlog::sinks::null_sink_mt>());
}

asio::ip::address loopback_address(const std::string& host)
{
    if (host == "localhost")
        return asio::ip::make_address("127.0.0.1");
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec || !addr.is_loopback())
        throw std::runtime_error("the EP development emulator only listens on loopback addresses (127.0.0.1, ::1, "
                                 "localhost), not '" +
                                 host + "'");
    return addr;
}

asio::awaitable<void> accept_loop(std::shared_ptr<detail::server_core> core, std::shared_ptr<tcp::acceptor> acceptor,
                                  asio::any_io_executor executor)
{
    while (!core->stopping)
    {
        auto [ec, socket] =
            co_await acceptor->async_accept(asio::make_strand(executor), asio::as_tuple(asio::use_awaitable));
        if (ec)
        {
            if (ec == asio::error::operation_aborted || core->stopping || !acceptor->is_open())
                break;
            core->log->warn("emulator: accept failed: {}", ec.message());
            continue;  // e.g. EMFILE; the listener itself is fine
        }
        core->state.connection_accepted();
        detail::start_session(core, std::move(socket));
    }
}

}  // namespace

emulator::emulator(emulator_config config) : impl_(std::make_shared<impl>())
{
    auto logger = logger_or_null(config.logger);
    impl_->core = std::make_shared<detail::server_core>(std::move(config), std::move(logger));
    impl_->own_ioc.emplace(1);
    impl_->executor = impl_->own_ioc->get_executor();
}

emulator::emulator(asio::any_io_executor executor, emulator_config config) : impl_(std::make_shared<impl>())
{
    auto logger = logger_or_null(config.logger);
    impl_->core = std::make_shared<detail::server_core>(std::move(config), std::move(logger));
    impl_->executor = std::move(executor);
}

emulator::~emulator()
{
    stop();
}

void emulator::start()
{
    std::lock_guard lock(impl_->mutex);
    if (impl_->started)
        throw std::runtime_error("EP development emulator: start() called twice");
    auto& core = *impl_->core;
    auto address = loopback_address(core.config.host);

    if (core.config.tls)
    {
        impl_->pki = detail::generate_tls();
        core.ssl.emplace(asio::ssl::context::tls_server);
        core.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                              asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                              asio::ssl::context::no_tlsv1_1);
        core.ssl->use_certificate_chain(asio::buffer(impl_->pki.cert_pem + impl_->pki.ca_pem));
        core.ssl->use_private_key(asio::buffer(impl_->pki.key_pem), asio::ssl::context::pem);
    }

    auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(impl_->executor));
    tcp::endpoint endpoint(address, core.config.port);
    boost::system::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec)
        acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor->bind(endpoint, ec);
    if (!ec)
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("EP development emulator: cannot listen on " + core.config.host + ":" +
                                 std::to_string(core.config.port) + ": " + ec.message());
    impl_->port = acceptor->local_endpoint().port();
    impl_->acceptor = acceptor;
    impl_->started = true;

    auto core_ptr = impl_->core;
    asio::co_spawn(acceptor->get_executor(), accept_loop(core_ptr, acceptor, impl_->executor),
                   [core_ptr](std::exception_ptr e) {
                       if (e)
                           core_ptr->log->error("emulator: accept loop ended with an exception");
                   });
    core.log->info("{} listening on {}", detail::emulator_label, base_url());

    if (impl_->own_ioc)
    {
        impl_->work.emplace(impl_->own_ioc->get_executor());
        int n = std::max(1, core.config.threads);
        for (int i = 0; i < n; ++i)
            impl_->threads.emplace_back([ioc = &*impl_->own_ioc] {
                ep::block_async_signals_on_this_thread();
                ioc->run();
            });
    }
}

void emulator::stop()
{
    std::lock_guard lock(impl_->mutex);
    if (!impl_->started || impl_->stopped)
        return;
    impl_->stopped = true;
    impl_->core->stopping = true;
    auto acceptor = impl_->acceptor;
    asio::post(acceptor->get_executor(), [acceptor] {
        boost::system::error_code ec;
        acceptor->close(ec);
    });
    impl_->core->close_all_connections();
    if (impl_->own_ioc)
    {
        impl_->work.reset();
        for (auto& t : impl_->threads)
            if (t.joinable())
                t.join();
    }
    impl_->core->log->info("{} stopped", detail::emulator_label);
}

std::uint16_t emulator::port() const noexcept
{
    return impl_->port;
}

bool emulator::tls() const noexcept
{
    return impl_->core->config.tls;
}

std::string emulator::base_url() const
{
    auto host = impl_->core->config.host;
    if (host == "::1")
        host = "[::1]";
    return std::string(tls() ? "https://" : "http://") + host + ":" + std::to_string(port());
}

std::string emulator::openai_base_url() const
{
    return base_url() + "/v1";
}

std::string emulator::anthropic_base_url() const
{
    return base_url();
}

std::string emulator::gemini_base_url() const
{
    return base_url() + "/v1beta";
}

std::string emulator::ca_pem() const
{
    return impl_->pki.ca_pem;
}

std::string emulator::cert_pem() const
{
    return impl_->pki.cert_pem;
}

void emulator::add_fault(fault_rule rule)
{
    impl_->core->state.add_rule(std::move(rule));
}

void emulator::clear_faults()
{
    impl_->core->state.clear_rules();
}

std::vector<request_record> emulator::requests() const
{
    return impl_->core->state.requests();
}

emulator_stats emulator::stats() const
{
    return impl_->core->state.stats();
}

void emulator::reset()
{
    impl_->core->state.reset();
}

}  // namespace ep::emulator
