#pragma once
// OpenTelemetry traces over OTLP/HTTP JSON, for every front end: when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, the runtime
// installs a run_tracing sink on every run — spans `invoke_workflow {workflow}` (the run) →
// `phase {id}` → `chat {model}` (one per provider attempt) with the GenAI semantic conventions
// (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.response.model,
// gen_ai.usage.input_tokens / output_tokens, error.type) — and ep-serve adds a `chat {model}`
// span per gateway call. Prompt and output content is not exported unless
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
//
// Spans are batched and POSTed to the endpoint on the runtime's io_context (a batch of
// max_batch spans, the end of a run, or flush_interval after the first pending span). An
// export that fails is logged (never its headers, which may carry credentials) and dropped.

#include <ep/common/env.hpp>
#include <ep/engine/run/events.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace spdlog { class logger; }

namespace ep::runtime {

namespace asio = boost::asio;

struct otel_config
{
    std::string traces_url;  // the full URL spans are POSTed to (…/v1/traces)
    std::vector<std::pair<std::string, std::string>> headers;  // OTEL_EXPORTER_OTLP_HEADERS
    std::string service_name = "ep";
    bool capture_content = false;
    std::size_t max_batch = 64;
    std::chrono::milliseconds flush_interval{1000};
    std::chrono::milliseconds export_timeout{10000};

    /// From OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT +
    /// "/v1/traces"; OTEL_EXPORTER_OTLP_HEADERS (k=v,k=v), OTEL_SERVICE_NAME (else
    /// `default_service`), OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. Nullopt when no
    /// endpoint is set.
    static std::optional<otel_config> from_environment(const ep::environment& env, const std::string& default_service);
};

enum class span_kind { internal = 1, server = 2, client = 3 };
enum class span_status { unset = 0, ok = 1, error = 2 };

struct otel_span
{
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> span_id{};
    std::array<std::uint8_t, 8> parent_id{};  // all zero: a root span
    std::string name;
    span_kind kind = span_kind::internal;
    std::chrono::system_clock::time_point start{};
    std::chrono::system_clock::time_point end{};
    nlohmann::json attributes = nlohmann::json::array();  // OTLP KeyValue objects
    span_status status = span_status::unset;
    std::string status_message;

    otel_span& set(const std::string& key, const std::string& value);
    otel_span& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
    otel_span& set(const std::string& key, std::int64_t value);
    otel_span& set(const std::string& key, double value);
    /// error status with `error.type` = `type` and the message.
    otel_span& fail(const std::string& type, const std::string& message);
    /// The OTLP JSON Span object.
    nlohmann::json to_json() const;
};

/// gen_ai.provider.name for one of our provider types ("openai", "anthropic", "gcp.gemini";
/// claude_agent → "anthropic"); other types as they are.
std::string genai_provider_name(const std::string& provider_type_or_name);

/// A short, low-cardinality error class for error.type and metrics labels: the HTTP status
/// when there was one ("429"), else the error's own name ("idle timeout", "stream truncated").
std::string error_type_of(const std::string& error_text, std::optional<int> status);

/// @par Thread safety
/// Strand-confined (the runtime's io_context). Shared ownership keeps exports in flight alive.
class otel_tracer : public std::enable_shared_from_this<otel_tracer>
{
public:
    otel_tracer(asio::any_io_executor ex, otel_config cfg, std::shared_ptr<spdlog::logger> log);
    ~otel_tracer();

    const otel_config& config() const noexcept { return cfg_; }

    /// A started span (start = now): a new trace when `parent` is null, else its child.
    otel_span start_span(std::string name, span_kind kind, const otel_span* parent);
    /// Ends `span` now and queues it for export.
    void end_span(otel_span span);
    /// Exports what is queued now.
    void flush();
    /// Cancels the pending flush timer (shutdown); queued spans are exported first.
    void shutdown();

    /// An event sink that turns one run's events into spans (the runtime installs one per run).
    std::unique_ptr<engine::event_sink> run_sink();

    /// Spans exported successfully / dropped after a failed export (tests, metrics).
    std::uint64_t exported() const noexcept { return exported_; }
    std::uint64_t dropped() const noexcept { return dropped_; }

private:
    asio::awaitable<void> export_batch(std::vector<otel_span> batch);
    nlohmann::json envelope(const std::vector<otel_span>& batch) const;

    asio::any_io_executor ex_;
    otel_config cfg_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<otel_span> pending_;
    asio::steady_timer flush_timer_;
    bool flush_armed_ = false;
    std::mt19937_64 rng_;
    std::uint64_t exported_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace ep::runtime
