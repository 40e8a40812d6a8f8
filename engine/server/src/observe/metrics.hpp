#pragma once
// ep-serve's Prometheus metrics (prometheus-cpp's registry and text format). Run and phase
// metrics come from the event stream of every run in flight (this is an event_sink the run
// registry feeds); gateway calls and HTTP requests are counted by their handlers; gauges that
// describe "now" (runs in flight, open circuits, SSE subscribers) are read at scrape time.
// Labels are provider/model names, statuses and error classes: never a key, a prompt or text.

#include <ep/engine/run/events.hpp>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace ep::engine { class circuit_registry; }

namespace ep::server {

/// What the scrape reads from the rest of the server.
struct metrics_snapshot
{
    std::size_t runs_in_flight = 0;
    std::size_t sse_subscribers = 0;
    std::size_t open_connections = 0;
    const engine::circuit_registry* circuits = nullptr;
};

/// Strand-confined.
class server_metrics final : public engine::event_sink
{
public:
    server_metrics();

    void on_event(const engine::run_event& ev) override;

    // The gateway: one call's attempts and its end.
    void chat_attempt_started(const std::string& provider, const std::string& model);
    void chat_first_token(const std::string& provider, const std::string& model, std::chrono::duration<double> ttft);
    void chat_attempt_failed(const std::string& provider, const std::string& model, const std::string& error_type);
    void chat_finished(const std::string& provider, const std::string& model, std::int64_t input_tokens,
                       std::int64_t output_tokens, std::optional<double> cost_usd, bool ok);
    void http_response(unsigned status);
    /// An SSE client fell behind its bounded queue and was caught up from the store.
    void sse_resync() { sse_resyncs_.Add({}).Increment(); }

    /// The text exposition format (version 0.0.4).
    std::string render(const metrics_snapshot& now);

private:
    using clock = std::chrono::steady_clock;
    void attempt_ended(const std::string& key);
    void count_usage(const std::string& provider, const std::string& model, std::int64_t in, std::int64_t out,
                     std::optional<double> cost);

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>& runs_started_;
    prometheus::Family<prometheus::Counter>& runs_;
    prometheus::Family<prometheus::Counter>& phases_;
    prometheus::Family<prometheus::Histogram>& phase_duration_;
    prometheus::Family<prometheus::Histogram>& ttft_;
    prometheus::Family<prometheus::Counter>& tokens_;
    prometheus::Family<prometheus::Counter>& cost_;
    prometheus::Family<prometheus::Counter>& attempts_;
    prometheus::Family<prometheus::Counter>& attempts_failed_;
    prometheus::Family<prometheus::Counter>& http_;
    prometheus::Family<prometheus::Gauge>& in_flight_calls_;
    prometheus::Family<prometheus::Gauge>& runs_in_flight_;
    prometheus::Family<prometheus::Gauge>& circuit_open_;
    prometheus::Family<prometheus::Gauge>& circuits_open_;
    prometheus::Family<prometheus::Gauge>& sse_subscribers_;
    prometheus::Family<prometheus::Gauge>& connections_;
    prometheus::Family<prometheus::Counter>& sse_resyncs_;

    // Per (run, instance): when the phase began, and the attempt in flight.
    struct phase_clock
    {
        clock::time_point started;
        clock::time_point attempt_started;
        std::string provider;
        std::string model;
        bool attempt_open = false;
        bool first_token_seen = false;
    };
    std::map<std::string, phase_clock> phases_open_;
    std::set<std::pair<std::string, std::string>> seen_models_;  // for the circuit gauges
};

}  // namespace ep::server
