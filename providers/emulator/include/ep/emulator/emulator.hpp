#pragma once
// The EP development emulator: a loopback HTTP(S) server that speaks the real wire protocols
// of OpenAI Chat Completions, the OpenAI Responses API, Anthropic Messages and Gemini
// generateContent / streamGenerateContent?alt=sse, with deterministic persona-aware answers,
// pacing, tool calls, usage blocks, structured output, reasoning (thinking blocks, thought
// signatures, reasoning tokens — and it refuses a follow-up that drops them, as the
// providers do), Anthropic prompt caching (cache writes, then reads) and scripted faults
// (faults.hpp). It is a development tool: every answer is
// marked "[emulated …]" and every banner says so.
//
// It does not use ep::providers on purpose: it is an independent implementation of the
// server side, so that it can catch client bugs instead of mirroring them.
//
// Endpoints (all on one port):
//   POST /v1/chat/completions                                      OpenAI (stream or not)
//   POST /v1/responses                                             OpenAI Responses (stream or not)
//   POST /v1/messages                                              Anthropic (`?beta=true` ignored)
//   POST /v1beta/models/{model}:generateContent | :streamGenerateContent?alt=sse   Gemini
//   HEAD / , GET /                                                 200 (Claude Code probes HEAD /)
//   GET /_emulator/requests · GET /_emulator/stats · POST /_emulator/reset
//   GET|POST|DELETE /_emulator/faults                              fault rules (JSON, see below)
//
// POST /_emulator/faults takes one object or an array of objects
//   {"fault":"429,retry-after=1", "protocol"?:"openai", "model"?:"…", "persona"?:"…", "times"?:N}
// and answers {"rules":N}. Credentials (authorization, x-api-key, x-goog-api-key, api-key,
// ?key=) are never logged nor returned.

#include "ep/emulator/faults.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ep::emulator {

struct emulator_config
{
    /// Loopback only: "127.0.0.1", "::1" or "localhost"; anything else makes start() throw.
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0 = an ephemeral port, read it back with port()

    /// Serve HTTPS with a certificate generated at start (ECDSA P-256, signed by a generated
    /// CA; SAN localhost, 127.0.0.1, ::1). Clients trust it through ca_pem().
    bool tls = false;

    /// Pacing: delay before the first content event, then one content event (≈ one token)
    /// every 1000/tokens_per_second ms. zero_latency disables every pacing delay (tests,
    /// benchmarks); scripted delays (slow/stall faults) still apply.
    std::chrono::milliseconds time_to_first_token{250};
    double tokens_per_second = 60.0;
    bool zero_latency = false;

    /// Anthropic streams get a `ping` event every this many content events (0 = only the one
    /// after content_block_start that the real server sends).
    int anthropic_ping_every = 16;

    std::size_t max_request_bytes = 32 * 1024 * 1024;  ///< parser.body_limit
    std::size_t max_logged_requests = 1000;            ///< oldest entries are dropped
    int threads = 1;                                   ///< own io_context threads (own-thread mode)

    /// Logger for the emulator's own diagnostics; null = a disabled logger.
    std::shared_ptr<spdlog::logger> logger;
};

/// One entry of the request log (GET /_emulator/requests).
struct request_record
{
    std::int64_t seq = 0;
    std::chrono::system_clock::time_point time;
    std::string method;
    std::string protocol;  ///< "openai", "openai_responses", "anthropic", "gemini", "admin", "probe" or "unknown"
    std::string path;      ///< target with any `key=` query value redacted
    std::string model;
    std::string persona;
    bool stream = false;
    std::string fault;     ///< applied fault spec, "" for none
    unsigned status = 0;   ///< status sent (0 when no header was sent)
    std::map<std::string, std::string> headers;  ///< lowercase names; credential values redacted
    std::string body;

    nlohmann::json to_json() const;
};

/// Counters (GET /_emulator/stats). Protocol requests only; admin and probe calls excluded.
struct emulator_stats
{
    std::uint64_t requests = 0;
    std::uint64_t connections = 0;  ///< TCP connections accepted (keep-alive reuse shows here)
    std::map<std::string, std::uint64_t> by_protocol;
    std::map<std::string, std::uint64_t> by_model;
    std::map<std::string, std::uint64_t> by_persona;
    std::map<std::string, std::uint64_t> by_fault;   ///< fault_kind names
    std::map<std::string, std::uint64_t> by_status;  ///< "200", "429", …

    nlohmann::json to_json() const;
};

/// The server. Thread safety: every member function may be called from any thread, also
/// while requests are being served. Lifetime: the destructor calls stop().
class emulator
{
public:
    /// Own-thread mode: start() runs `config.threads` threads with a private io_context.
    explicit emulator(emulator_config config = {});
    /// In-process mode (e.g. `ep-run --emulate`): runs on `executor`; the caller runs it.
    emulator(boost::asio::any_io_executor executor, emulator_config config = {});
    ~emulator();
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    /// Binds and listens (synchronously, so port() is valid on return), generates the TLS
    /// certificate if asked, then accepts in the background. Throws std::runtime_error on a
    /// non-loopback host, a bind failure or a second call.
    void start();
    /// Closes the listener and every open connection (including stalled ones); in own-thread
    /// mode also joins the threads. Idempotent.
    void stop();

    std::uint16_t port() const noexcept;
    bool tls() const noexcept;
    std::string base_url() const;            ///< http(s)://127.0.0.1:P
    std::string openai_base_url() const;     ///< …/v1
    std::string anthropic_base_url() const;  ///< … (the SDKs append /v1/messages)
    std::string gemini_base_url() const;     ///< …/v1beta
    /// PEM of the CA that signed the server certificate ("" without TLS).
    std::string ca_pem() const;
    /// PEM of the server certificate itself ("" without TLS).
    std::string cert_pem() const;

    void add_fault(fault_rule rule);
    void clear_faults();

    std::vector<request_record> requests() const;
    emulator_stats stats() const;
    /// Clears the request log, the counters, the fault rules and every `times` count.
    void reset();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace ep::emulator
