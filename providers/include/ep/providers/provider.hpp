#pragma once
// The provider SPI: one streaming awaitable per call; the non-streaming call is built on it.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>

#include <functional>
#include <memory>
#include <string>

namespace ep::providers {

namespace asio = boost::asio;

/// Events of one call flow through a bounded channel: a slow consumer makes the producer
/// wait in async_send, which stops it reading the socket (backpressure).
using event_channel = asio::experimental::channel<void(boost::system::error_code, stream_event)>;
inline constexpr std::size_t event_channel_capacity = 64;

/// How a call ended. `ec` is empty exactly when a finish_event was delivered.
struct call_status
{
    boost::system::error_code ec;
    diagnostics diag;
    bool ok() const noexcept { return !ec; }
};

class provider
{
public:
    virtual ~provider() = default;

    /// The configured name, e.g. "anthropic" or "ollama".
    virtual const provider_config& config() const noexcept = 0;

    /// Streams one chat call into `out`.
    ///
    /// Sends zero or more events with `out.async_send`, ending with exactly one finish_event on
    /// success; on failure returns the error and sends no finish_event. Never closes `out`
    /// (the caller owns it). A stream that ends without the provider's terminal marker returns
    /// provider_errc::stream_truncated.
    ///
    /// @par Per-operation cancellation
    /// Terminal and partial cancellation are supported at any point, including mid-stream: the
    /// connection (or child process) is closed and asio::error::operation_aborted returned. A
    /// cancel is never reported as a timeout.
    virtual asio::awaitable<call_status> stream_chat(const chat_request& req, event_channel& out) = 0;
};

/// The outcome of a whole call: the status plus everything received before it ended.
struct call_result
{
    call_status status;
    chat_response response;
};

using event_callback = std::function<void(const stream_event&)>;

/// Runs `p.stream_chat` through a bounded channel and hands each event to `on_event` as it
/// arrives (on the caller's executor). Cancelling the awaiting coroutine cancels the call.
asio::awaitable<call_result> stream_call(provider& p, const chat_request& req, event_callback on_event);

/// The non-streaming call, built on stream_call.
asio::awaitable<call_result> complete(provider& p, const chat_request& req);

}  // namespace ep::providers
