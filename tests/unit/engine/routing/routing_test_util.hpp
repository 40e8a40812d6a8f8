#pragma once
// Helpers shared by the routing tests: run a coroutine to completion on a fresh io_context
// (optionally cancelling it after a real delay) and capture log lines.

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>

namespace ep::testing {

/// Runs `aw` on `ctx` until everything finished; with `cancel_after`, emits terminal
/// cancellation after that much real time. Rethrows an exception escaping the coroutine.
template <class T>
T run_to_end(boost::asio::io_context& ctx, boost::asio::awaitable<T> aw,
             std::optional<std::chrono::milliseconds> cancel_after = std::nullopt)
{
    namespace asio = boost::asio;
    asio::cancellation_signal signal;
    std::optional<T> result;
    std::exception_ptr error;
    asio::steady_timer timer(ctx);
    asio::co_spawn(ctx, std::move(aw),
                   asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, T r) {
                       error = e;
                       result = std::move(r);
                       timer.cancel();
                   }));
    if (cancel_after)
    {
        timer.expires_after(*cancel_after);
        timer.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                signal.emit(asio::cancellation_type::terminal);
        });
    }
    ctx.restart();
    ctx.run();
    if (error)
        std::rethrow_exception(error);
    if (!result)
        throw std::runtime_error("coroutine did not complete");
    return std::move(*result);
}

/// A logger that writes into a string stream, for assertions on log lines.
struct log_capture
{
    std::ostringstream stream;
    std::shared_ptr<spdlog::logger> logger;

    log_capture()
    {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(stream);
        sink->set_pattern("%l %v");
        logger = std::make_shared<spdlog::logger>("test", sink);
        logger->set_level(spdlog::level::trace);
    }
    std::string text() const { return stream.str(); }
};

}  // namespace ep::testing
