#pragma once
// Run events: the `--json` event stream of DESIGN.md, and the sinks that consume it (JSON lines;
// the human console view is ep-run's own, in engine/cli). The executor also appends every event to the
// run store's event log (see executor.hpp).
//
// Event types and their fields (exactly those of DESIGN.md and schemas/events.schema.json):
//   run_started {workflow, mix} · phase_started {phase, attempt, provider, model} ·
//   text_delta {phase, text} · attempt_failed {phase, attempt, provider, model, error, status?,
//   retry_in_ms?} · phase_completed {phase, provider, model, usage{input_tokens, output_tokens},
//   cost_usd, output} · phase_failed {phase, error} · phase_skipped {phase, reason} ·
//   phase_waiting {phase, prompt} · approval_recorded {phase, decision, comment?} ·
//   run_completed {status: succeeded|failed|cancelled|waiting}
// Phase events of a loop iteration or a fan-out item also carry `iteration` and `item`.
// Each also has "type", "ts" (RFC 3339 UTC with milliseconds) and "run_id".

#include <ep/persistence/records.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace ep::engine {

struct run_event
{
    std::string type;
    std::string run_id;
    persistence::timestamp ts{};
    nlohmann::json fields = nlohmann::json::object();  // the type-specific fields

    /// {"type", "ts", "run_id", ...fields}: one line of `--json` output.
    nlohmann::json to_json() const;
    /// Convenience accessor: fields[key] as a string, "" when absent.
    std::string field(const char* key) const;
    /// phase_completed's cost_usd: nullopt when it is null (unknown: the model has no price);
    /// 0 when absent (an event without a cost).
    std::optional<double> cost_usd() const;
};

/// "2024-05-01T12:00:00.123Z".
std::string format_rfc3339(persistence::timestamp ts);

/// Builders of the contract's events (ts = now).
namespace events {
run_event run_started(const std::string& run_id, const std::string& workflow, const std::string& mix);
run_event phase_started(const std::string& run_id, const std::string& phase, int attempt, const std::string& provider,
                        const std::string& model);
run_event text_delta(const std::string& run_id, const std::string& phase, const std::string& text);
run_event attempt_failed(const std::string& run_id, const std::string& phase, int attempt,
                         const std::string& provider, const std::string& model, const std::string& error,
                         std::optional<int> status, std::optional<std::chrono::milliseconds> retry_in);
run_event phase_completed(const std::string& run_id, const std::string& phase, const std::string& provider,
                          const std::string& model, std::int64_t input_tokens, std::int64_t output_tokens,
                          std::optional<double> cost_usd, const std::string& output);
run_event phase_failed(const std::string& run_id, const std::string& phase, const std::string& error);
run_event phase_skipped(const std::string& run_id, const std::string& phase, const std::string& reason);
/// An approval gate was reached; the run waits for `ep-run --approve|--reject`.
run_event phase_waiting(const std::string& run_id, const std::string& phase, const std::string& prompt);
run_event approval_recorded(const std::string& run_id, const std::string& phase, bool approved,
                            const std::string& comment);
/// Adds `iteration` (a loop pass, 1-based) and `item` (a fan-out item, 0-based) to a phase event.
run_event& tag_instance(run_event& ev, std::optional<int> iteration, std::optional<int> item);
/// `status`: "succeeded", "failed", "cancelled" or "waiting".
run_event run_completed(const std::string& run_id, const std::string& status);
}  // namespace events

/// Receives the events of a run, in order, on the executor's thread. Implementations must not
/// throw and should not block for long (they run on the event loop).
class event_sink
{
public:
    virtual ~event_sink() = default;
    virtual void on_event(const run_event& ev) = 0;
};

/// Forwards every event to each of its sinks in turn (not owned; they must outlive it).
class multi_sink final : public event_sink
{
public:
    explicit multi_sink(std::vector<event_sink*> sinks = {}) : sinks_(std::move(sinks)) {}
    void add(event_sink* s) { sinks_.push_back(s); }
    void on_event(const run_event& ev) override;

private:
    std::vector<event_sink*> sinks_;
};

/// Keeps every event (tests, examples).
class collecting_sink final : public event_sink
{
public:
    void on_event(const run_event& ev) override { events.push_back(ev); }
    std::vector<const run_event*> of_type(const std::string& type) const;
    std::vector<run_event> events;
};

/// `--json`: one compact JSON object per line on `out`, flushed per line. `out` must outlive it.
std::unique_ptr<event_sink> make_json_lines_sink(std::ostream& out);

}  // namespace ep::engine
