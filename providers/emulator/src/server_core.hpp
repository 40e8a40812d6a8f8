#pragma once
// What every connection of one emulator shares: configuration, logger, the three wire
// protocols, the TLS context, the remembered state, and the registry used to close open
// connections on stop().

#include "state.hpp"
#include "wire_protocol.hpp"

#include "ep/emulator/emulator.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace ep::emulator::detail {

/// Every response carries this label: the emulator is a development tool, never a provider.
inline constexpr const char* emulator_label = "EP development emulator";

struct server_core
{
    server_core(emulator_config cfg, std::shared_ptr<spdlog::logger> logger);

    emulator_config config;
    std::shared_ptr<spdlog::logger> log;
    shared_state state;
    std::unique_ptr<wire_protocol> openai;
    std::unique_ptr<wire_protocol> anthropic;
    std::unique_ptr<wire_protocol> gemini;
    std::unique_ptr<wire_protocol> responses;
    std::optional<boost::asio::ssl::context> ssl;  ///< set in TLS mode, before accepting
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> response_counter{0};

    /// Registers a closer for an open connection; false (and nothing stored) when stopping.
    bool add_connection(std::uint64_t id, std::function<void()> closer);
    void remove_connection(std::uint64_t id);
    /// Calls every registered closer (each posts to its connection's strand).
    void close_all_connections();
    std::uint64_t next_connection_id() { return next_id_++; }

private:
    std::mutex mutex_;
    std::map<std::uint64_t, std::function<void()>> closers_;
    std::atomic<std::uint64_t> next_id_{1};
};

/// Serves one accepted connection (TLS handshake first when core->ssl is set) until the peer
/// closes it, a fatal error occurs or stop() closes it.
void start_session(std::shared_ptr<server_core> core, boost::asio::ip::tcp::socket socket);

}  // namespace ep::emulator::detail
