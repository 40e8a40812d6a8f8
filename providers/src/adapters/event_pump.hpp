#pragma once
// The decode-and-deliver loop every adapter shares: bytes from a source (an HTTP body, a
// CLI's stdout) go through the protocol's decoder, and the events go into the bounded
// channel, waiting for room (backpressure). The finish event is held back: the adapter sends
// it once the whole call has succeeded (provider.hpp), which for a CLI also means its exit
// status.

#include "protocols/codec.hpp"

#include <ep/providers/provider.hpp>

#include <optional>
#include <string>

namespace ep::providers::adapters {

/// Where the bytes of one call come from.
class byte_source
{
public:
    /// The next bytes in `out` (replacing its contents); `out` empty with no error means the
    /// bytes have ended. Errors are provider_errc (with `diag` filled) or operation_aborted.
    virtual asio::awaitable<boost::system::error_code> read(std::string& out, diagnostics& diag) = 0;
    /// Ends the source for good (closes the connection, kills the child). Called when the
    /// decoder fails or the consumer stops receiving.
    virtual void abort() noexcept = 0;
    /// The decoder saw the model's first content (stream_decoder::content_started): the
    /// first-token limit, if the source enforces one, no longer applies. Called once.
    virtual void first_content() noexcept {}

protected:
    ~byte_source() = default;
};

struct pump_result
{
    /// Empty when the bytes ended cleanly with a finish event; otherwise the decoder's error,
    /// the source's, stream_truncated (no finish event), or operation_aborted (a cancel, or
    /// the consumer left). `diag` says more.
    boost::system::error_code ec;
    std::optional<stream_event> finish;  // set exactly when `ec` is empty
};

/// Reads `src` until the decoder is done (`read_to_end`: until the bytes end, for a child
/// that must be drained), feeding `dec` and delivering its events to `out`.
///
/// @par Per-operation cancellation
/// Terminal and partial: the source is aborted and operation_aborted returned (never a
/// timeout). A cancel is also noticed between two reads.
asio::awaitable<pump_result> decode_and_deliver(byte_source& src, sansio::stream_decoder& dec, event_channel& out,
                                                diagnostics& diag, bool read_to_end = false);

/// Sends the held-back finish event; operation_aborted when the consumer is gone.
asio::awaitable<boost::system::error_code> deliver_finish(event_channel& out, stream_event finish);

}  // namespace ep::providers::adapters
