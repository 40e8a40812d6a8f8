#include "observe/metrics.hpp"

#include <ep/engine/routing/circuit_breaker.hpp>
#include <ep/runtime/event_hub.hpp>
#include <ep/runtime/otel.hpp>

#include <prometheus/text_serializer.h>

namespace ep::server {

namespace {

const prometheus::Histogram::BucketBoundaries& duration_buckets()
{
    static const prometheus::Histogram::BucketBoundaries b = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
    return b;
}

const prometheus::Histogram::BucketBoundaries& ttft_buckets()
{
    static const prometheus::Histogram::BucketBoundaries b = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30};
    return b;
}

std::string phase_key(const engine::run_event& ev)
{
    return ev.run_id + "/" + runtime::event_instance(ev.type, ev.fields);
}

}  // namespace

server_metrics::server_metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      runs_started_(prometheus::BuildCounter().Name("ep_runs_started_total").Help("Run sessions started (new runs and resumes)").Register(*registry_)),
      runs_(prometheus::BuildCounter().Name("ep_runs_total").Help("Run sessions ended, by status").Register(*registry_)),
      phases_(prometheus::BuildCounter().Name("ep_phases_total").Help("Phases ended, by status").Register(*registry_)),
      phase_duration_(prometheus::BuildHistogram().Name("ep_phase_duration_seconds").Help("Phase duration from its first attempt to its checkpoint").Register(*registry_)),
      ttft_(prometheus::BuildHistogram().Name("ep_time_to_first_token_seconds").Help("Time from an attempt's start to its first streamed text").Register(*registry_)),
      tokens_(prometheus::BuildCounter().Name("ep_tokens_total").Help("Tokens by provider, model and direction (phases and gateway calls)").Register(*registry_)),
      cost_(prometheus::BuildCounter().Name("ep_cost_usd_total").Help("Cost in USD by provider and model (known prices only)").Register(*registry_)),
      attempts_(prometheus::BuildCounter().Name("ep_attempts_total").Help("Provider attempts started, by provider and model").Register(*registry_)),
      attempts_failed_(prometheus::BuildCounter().Name("ep_attempts_failed_total").Help("Failed provider attempts, by error class").Register(*registry_)),
      http_(prometheus::BuildCounter().Name("ep_http_responses_total").Help("HTTP responses, by status code").Register(*registry_)),
      in_flight_calls_(prometheus::BuildGauge().Name("ep_provider_calls_in_flight").Help("Provider calls in flight").Register(*registry_)),
      runs_in_flight_(prometheus::BuildGauge().Name("ep_runs_in_flight").Help("Runs executing in this process").Register(*registry_)),
      circuit_open_(prometheus::BuildGauge().Name("ep_circuit_open").Help("1 when the circuit breaker of (provider, model) is open").Register(*registry_)),
      circuits_open_(prometheus::BuildGauge().Name("ep_circuits_open").Help("Open circuit breakers").Register(*registry_)),
      sse_subscribers_(prometheus::BuildGauge().Name("ep_sse_subscribers").Help("Clients following a run's events").Register(*registry_)),
      connections_(prometheus::BuildGauge().Name("ep_http_connections").Help("Open HTTP connections").Register(*registry_)),
      sse_resyncs_(prometheus::BuildCounter().Name("ep_sse_resyncs_total").Help("SSE clients that fell behind their bounded queue and were caught up from the store").Register(*registry_))
{
    runs_started_.Add({});
    sse_resyncs_.Add({});
}

void server_metrics::attempt_ended(const std::string& key)
{
    auto it = phases_open_.find(key);
    if (it == phases_open_.end() || !it->second.attempt_open)
        return;
    it->second.attempt_open = false;
    in_flight_calls_.Add({}).Decrement();
}

void server_metrics::count_usage(const std::string& provider, const std::string& model, std::int64_t in, std::int64_t out,
                                 std::optional<double> cost)
{
    tokens_.Add({{"provider", provider}, {"model", model}, {"direction", "input"}}).Increment(static_cast<double>(in));
    tokens_.Add({{"provider", provider}, {"model", model}, {"direction", "output"}}).Increment(static_cast<double>(out));
    if (cost && *cost > 0)
        cost_.Add({{"provider", provider}, {"model", model}}).Increment(*cost);
}

void server_metrics::on_event(const engine::run_event& ev)
{
    const auto& t = ev.type;
    const auto now = clock::now();
    if (t == "run_started")
        runs_started_.Add({}).Increment();
    else if (t == "run_completed")
        runs_.Add({{"status", ev.field("status")}}).Increment();
    else if (t == "phase_started")
    {
        auto& pc = phases_open_.try_emplace(phase_key(ev), phase_clock{now, now, {}, {}, false, false}).first->second;
        if (ev.field("provider").empty())
            return;  // a command phase: timed as a phase, but no model call
        if (pc.attempt_open)
            in_flight_calls_.Add({}).Decrement();
        pc.attempt_started = now;
        pc.provider = ev.field("provider");
        pc.model = ev.field("model");
        pc.attempt_open = true;
        pc.first_token_seen = false;
        in_flight_calls_.Add({}).Increment();
        attempts_.Add({{"provider", pc.provider}, {"model", pc.model}}).Increment();
        seen_models_.emplace(pc.provider, pc.model);
    }
    else if (t == "text_delta")
    {
        if (auto it = phases_open_.find(phase_key(ev)); it != phases_open_.end() && !it->second.first_token_seen)
        {
            it->second.first_token_seen = true;
            ttft_.Add({{"provider", it->second.provider}, {"model", it->second.model}}, ttft_buckets())
                .Observe(std::chrono::duration<double>(now - it->second.attempt_started).count());
        }
    }
    else if (t == "attempt_failed")
    {
        std::optional<int> status;
        if (auto st = ev.fields.find("status"); st != ev.fields.end() && st->is_number_integer())
            status = st->get<int>();
        attempts_failed_.Add({{"provider", ev.field("provider")}, {"error", runtime::error_type_of(ev.field("error"), status)}})
            .Increment();
        attempt_ended(phase_key(ev));
    }
    else if (t == "phase_completed" || t == "phase_failed" || t == "phase_skipped")
    {
        const auto key = phase_key(ev);
        attempt_ended(key);
        const std::string status = t == "phase_completed" ? "completed" : t == "phase_failed" ? "failed" : "skipped";
        phases_.Add({{"status", status}}).Increment();
        if (auto it = phases_open_.find(key); it != phases_open_.end())
        {
            phase_duration_.Add({{"status", status}}, duration_buckets())
                .Observe(std::chrono::duration<double>(now - it->second.started).count());
            phases_open_.erase(it);
        }
        if (t == "phase_completed")
        {
            const auto usage = ev.fields.value("usage", nlohmann::json::object());
            count_usage(ev.field("provider"), ev.field("model"), usage.value("input_tokens", std::int64_t{0}),
                        usage.value("output_tokens", std::int64_t{0}), ev.cost_usd());
        }
    }
}

void server_metrics::chat_attempt_started(const std::string& provider, const std::string& model)
{
    in_flight_calls_.Add({}).Increment();
    attempts_.Add({{"provider", provider}, {"model", model}}).Increment();
    seen_models_.emplace(provider, model);
}

void server_metrics::chat_first_token(const std::string& provider, const std::string& model,
                                      std::chrono::duration<double> ttft)
{
    ttft_.Add({{"provider", provider}, {"model", model}}, ttft_buckets()).Observe(ttft.count());
}

void server_metrics::chat_attempt_failed(const std::string& provider, const std::string&, const std::string& error_type)
{
    in_flight_calls_.Add({}).Decrement();
    attempts_failed_.Add({{"provider", provider}, {"error", error_type}}).Increment();
}

void server_metrics::chat_finished(const std::string& provider, const std::string& model, std::int64_t in,
                                   std::int64_t out, std::optional<double> cost, bool ok)
{
    if (ok)
    {
        in_flight_calls_.Add({}).Decrement();
        count_usage(provider, model, in, out, cost);
    }
}

void server_metrics::http_response(unsigned status) { http_.Add({{"code", std::to_string(status)}}).Increment(); }

std::string server_metrics::render(const metrics_snapshot& now)
{
    runs_in_flight_.Add({}).Set(static_cast<double>(now.runs_in_flight));
    sse_subscribers_.Add({}).Set(static_cast<double>(now.sse_subscribers));
    connections_.Add({}).Set(static_cast<double>(now.open_connections));
    int open = 0;
    if (now.circuits)
        for (const auto& [provider, model] : seen_models_)
        {
            const auto breaker = now.circuits->find(provider, model);
            const bool is_open = breaker && breaker->is_open();
            open += is_open ? 1 : 0;
            circuit_open_.Add({{"provider", provider}, {"model", model}}).Set(is_open ? 1 : 0);
        }
    circuits_open_.Add({}).Set(open);
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace ep::server
