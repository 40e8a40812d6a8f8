#pragma once
// A WHATWG-conformant Server-Sent Events decoder (HTML Living Standard, "event stream
// interpretation") that never touches a socket: bytes in, events out.
//
// - Line endings LF, CRLF and CR, including a CR that ends one feed and an LF that starts
//   the next (the LF is then swallowed, not read as an empty line).
// - Bytes are buffered and only complete lines are interpreted, so a UTF-8 character split
//   across feeds is reassembled before anyone looks at it.
// - `data:` lines are joined with "\n"; one optional space after the colon is stripped; a
//   line without a colon is a field with an empty value; comment lines (":…") are skipped;
//   `event:`, `id:` (persists across events, ignored if it contains NUL) and `retry:`
//   (digits only) are reported; unknown fields are ignored; a leading UTF-8 BOM is dropped.
// - A line longer than `max_line_bytes` is a malformed stream (bounds memory).

#include <ep/providers/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ep::providers::sansio {

struct sse_event
{
    std::string event;  // empty means the default type, "message"
    std::string data;   // data lines joined with "\n", no trailing "\n"
    std::string id;     // the last event id seen so far in the stream
    std::optional<std::int64_t> retry;  // a `retry:` field seen since the previous event
};

/// Receives dispatched events. Returning an error stops the parser (it is returned from feed).
class sse_sink
{
public:
    virtual boost::system::error_code on_event(const sse_event& ev) = 0;

protected:
    ~sse_sink() = default;
};

class sse_parser
{
public:
    static constexpr std::size_t default_max_line = 8u << 20;  // 8 MiB

    explicit sse_parser(std::size_t max_line_bytes = default_max_line) : max_line_(max_line_bytes) {}

    /// Feeds bytes (any split). Calls `sink.on_event` for each complete event. Returns
    /// malformed_event for an over-long line (diag filled), or the sink's first error. The
    /// parser must not be fed again after an error.
    boost::system::error_code feed(std::string_view bytes, sse_sink& sink, diagnostics& diag);

    /// The stream ended: true when no partial line or undispatched event is pending. Per the
    /// standard an event not terminated by a blank line is discarded at end of stream.
    bool at_event_boundary() const noexcept { return pending_.empty() && !has_data_ && ev_.event.empty(); }

    /// Total bytes seen so far.
    std::uint64_t bytes_seen() const noexcept { return bytes_seen_; }

private:
    boost::system::error_code process_line(std::string_view line, sse_sink& sink);
    boost::system::error_code dispatch(sse_sink& sink);
    boost::system::error_code line_too_long(diagnostics& diag) const;

    std::size_t max_line_;
    std::string pending_;       // an incomplete line carried over to the next feed
    sse_event ev_;              // the event being built (capacity reused across events)
    bool has_data_ = false;     // a data field was seen (even an empty one)
    bool skip_lf_ = false;      // the previous feed ended with CR: an LF first is its pair
    bool first_line_ = true;    // strip a UTF-8 BOM from the very first line
    std::uint64_t bytes_seen_ = 0;
};

}  // namespace ep::providers::sansio
