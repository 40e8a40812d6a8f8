#pragma once
// The `total` timeout of one provider call, shared by every adapter.

#include <ep/providers/provider.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>

namespace ep::providers {

/// Runs `op` against a deadline of `total`.
///
/// When `total` elapses first, `op` receives terminal cancellation (it closes its connection or
/// kills its child and returns) and the result is provider_errc::total_timeout. Otherwise the
/// result is `op`'s own.
///
/// @par Per-operation cancellation
/// A cancellation of the awaiting coroutine is passed on to `op` (all types); `op` then reports
/// asio::error::operation_aborted, never a timeout. Returns only after `op` has finished.
boost::asio::awaitable<call_status> run_with_total_timeout(boost::asio::awaitable<call_status> op,
                                                           std::chrono::milliseconds total);

}  // namespace ep::providers
