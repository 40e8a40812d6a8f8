#pragma once
// Runs one provider::stream_chat through a bounded channel and folds its events, forwarding
// each to the caller as it arrives. Private to the routing module.

#include <ep/providers/provider.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>

namespace ep::engine::detail {

namespace asio = boost::asio;

struct attempt_outcome
{
    providers::call_status status;
    providers::chat_response response;  // everything received, even when the call failed
    bool finished = false;              // a finish_event arrived
    bool streamed_output = false;       // text or tool-call output reached the caller
};

/// Cancelling the awaiting coroutine (terminal) cancels the provider call; the outcome then
/// carries whatever the provider returned (normally operation_aborted). Never throws for a cancel.
asio::awaitable<attempt_outcome> stream_attempt(providers::provider& p, const providers::chat_request& req,
                                                const std::function<void(const providers::stream_event&)>& on_event);

}  // namespace ep::engine::detail
