#pragma once
// Scripted faults of the EP development emulator.
//
// A fault makes one request misbehave the way real providers and networks do, so that
// clients can be tested against each failure on the real HTTP/SSE path. A fault is chosen
// for a request, in this order of precedence:
//   1. the `x-ep-emulator-fault: <spec>` request header;
//   2. a model name containing `emu-fault:<spec>` (e.g. model `emu-fault:429,retry-after=2`);
//   3. the first matching rule added with `emulator::add_fault` or `POST /_emulator/faults`.
// With `times=N` a fault hits only the first N matching requests, then requests succeed
// ("fail the first N then succeed"); for header and model faults the count is kept per
// spec text, for rules per rule. `emulator::reset()` forgets all counts.
//
// Spec grammar: `<kind>[:<n>][,key=value]...`
//   <status>               HTTP error (e.g. `429`, `503`, `529`) in the protocol's error shape;
//                          keys `retry-after=<s>`, `retry-after-ms=<ms>`
//   reset                  accept and read the request, then close (reset) before any header
//   no-response            read the request and never answer (socket stays open)
//   slow[:ms]              delay the response headers by ms (default 2000)
//   first-token[:ms]       headers (and events that carry no content) at once, then the
//                          first content event only after ms (default 2000)
//   cut[:k]                close the connection after k stream events (default 2)
//   stall[:k]              stop sending after k stream events, keep the socket open;
//                          with `,for=<ms>`: stay silent that long, then close the connection
//   malformed[:k]          insert an unparsable event after k events (default 1)
//   no-terminal            omit the terminal marker ([DONE] / message_stop / final Gemini chunk)
//   context-length         the provider's real 400 "context length exceeded" error
//   content-filter         stop with content_filter / refusal / SAFETY after a little text
//   overloaded[:k]         in-stream error after k events (Anthropic `event: error` overloaded)
// and the common key `times=<N>`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ep::emulator {

enum class fault_kind
{
    none,
    http_status,
    reset_before_headers,
    no_response,
    slow_first_token,
    late_first_content,
    cut_stream,
    stall,
    malformed_event,
    missing_terminal,
    context_length,
    content_filter,
    overloaded,
};

/// Stable lowercase name of a kind ("http_status", "cut_stream", …), used in stats and logs.
std::string_view to_string(fault_kind kind) noexcept;

struct fault_spec
{
    fault_kind kind = fault_kind::none;
    unsigned status = 0;                   ///< http_status: the status to answer with
    std::optional<int> retry_after_s;      ///< http_status: `Retry-After` header value
    std::optional<int> retry_after_ms;     ///< http_status: `retry-after-ms` header value
    int delay_ms = 2000;                   ///< slow_first_token, late_first_content
    std::optional<int> stall_ms;           ///< stall: close after this long instead of never
    int after_events = 2;                  ///< cut_stream, stall, malformed_event, overloaded
    std::optional<int> times;              ///< hit only the first N matching requests

    /// The spec back in the grammar above (round-trips through `parse_fault_spec`).
    std::string to_string() const;
};

/// Parses the grammar above; std::nullopt (and a reason in `error` if given) when invalid.
std::optional<fault_spec> parse_fault_spec(std::string_view text, std::string* error = nullptr);

/// A programmatic fault: `fault` applies to requests matching every scope that is set.
struct fault_rule
{
    fault_spec fault;
    std::optional<std::string> protocol;  ///< "openai", "openai_responses", "anthropic" or "gemini"
    std::optional<std::string> model;     ///< exact model name
    std::optional<std::string> persona;   ///< detected persona (see persona.hpp)
};

}  // namespace ep::emulator
