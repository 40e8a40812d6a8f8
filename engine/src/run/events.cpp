// The event model and the simple sinks (JSON lines, fan-out, collecting).
#include <ep/engine/run/events.hpp>

#include <algorithm>
#include <ctime>
#include <optional>
#include <cstdio>
#include <ostream>

namespace ep::engine {

std::string format_rfc3339(persistence::timestamp ts)
{
    const auto ms = ts.time_since_epoch().count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    int frac = static_cast<int>(ms % 1000);
    if (frac < 0)
    {
        frac += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

nlohmann::json run_event::to_json() const
{
    nlohmann::json j = {{"type", type}, {"ts", format_rfc3339(ts)}, {"run_id", run_id}};
    for (auto it = fields.begin(); it != fields.end(); ++it)
        j[it.key()] = it.value();
    return j;
}

std::string run_event::field(const char* key) const
{
    auto it = fields.find(key);
    return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<double> run_event::cost_usd() const
{
    const auto it = fields.find("cost_usd");
    if (it == fields.end())
        return 0.0;
    return it->is_number() ? std::optional<double>(it->get<double>()) : std::nullopt;
}

namespace events {

namespace {
run_event make(const char* type, const std::string& run_id, nlohmann::json fields)
{
    return run_event{type, run_id, persistence::now_ms(), std::move(fields)};
}
}  // namespace

run_event run_started(const std::string& run_id, const std::string& workflow, const std::string& mix)
{
    return make("run_started", run_id, {{"workflow", workflow}, {"mix", mix}});
}

run_event phase_started(const std::string& run_id, const std::string& phase, int attempt, const std::string& provider,
                        const std::string& model)
{
    return make("phase_started", run_id,
                {{"phase", phase}, {"attempt", attempt}, {"provider", provider}, {"model", model}});
}

run_event text_delta(const std::string& run_id, const std::string& phase, const std::string& text)
{
    return make("text_delta", run_id, {{"phase", phase}, {"text", text}});
}

run_event attempt_failed(const std::string& run_id, const std::string& phase, int attempt,
                         const std::string& provider, const std::string& model, const std::string& error,
                         std::optional<int> status, std::optional<std::chrono::milliseconds> retry_in)
{
    nlohmann::json f = {{"phase", phase}, {"attempt", attempt}, {"provider", provider}, {"model", model},
                        {"error", error}};
    if (status)
        f["status"] = *status;
    if (retry_in)
        f["retry_in_ms"] = std::max<std::int64_t>(0, retry_in->count());
    return make("attempt_failed", run_id, std::move(f));
}

run_event phase_completed(const std::string& run_id, const std::string& phase, const std::string& provider,
                          const std::string& model, std::int64_t input_tokens, std::int64_t output_tokens,
                          std::optional<double> cost_usd, const std::string& output)
{
    return make("phase_completed", run_id,
                {{"phase", phase},
                 {"provider", provider},
                 {"model", model},
                 {"usage", {{"input_tokens", std::max<std::int64_t>(0, input_tokens)},
                            {"output_tokens", std::max<std::int64_t>(0, output_tokens)}}},
                 // null: unknown (the model has no price), never a made-up $0
                 {"cost_usd", cost_usd ? nlohmann::json(std::max(0.0, *cost_usd)) : nlohmann::json(nullptr)},
                 {"output", output}});
}

run_event phase_failed(const std::string& run_id, const std::string& phase, const std::string& error)
{
    return make("phase_failed", run_id, {{"phase", phase}, {"error", error}});
}

run_event phase_skipped(const std::string& run_id, const std::string& phase, const std::string& reason)
{
    return make("phase_skipped", run_id, {{"phase", phase}, {"reason", reason}});
}

run_event phase_waiting(const std::string& run_id, const std::string& phase, const std::string& prompt)
{
    return make("phase_waiting", run_id, {{"phase", phase}, {"prompt", prompt}});
}

run_event approval_recorded(const std::string& run_id, const std::string& phase, bool approved,
                            const std::string& comment)
{
    nlohmann::json f = {{"phase", phase}, {"decision", approved ? "approve" : "reject"}};
    if (!comment.empty())
        f["comment"] = comment;
    return make("approval_recorded", run_id, std::move(f));
}

run_event& tag_instance(run_event& ev, std::optional<int> iteration, std::optional<int> item)
{
    if (iteration)
        ev.fields["iteration"] = *iteration;
    if (item)
        ev.fields["item"] = *item;
    return ev;
}

run_event run_completed(const std::string& run_id, const std::string& status)
{
    return make("run_completed", run_id, {{"status", status}});
}

}  // namespace events

void multi_sink::on_event(const run_event& ev)
{
    for (auto* s : sinks_)
        s->on_event(ev);
}

std::vector<const run_event*> collecting_sink::of_type(const std::string& type) const
{
    std::vector<const run_event*> out;
    for (const auto& e : events)
        if (e.type == type)
            out.push_back(&e);
    return out;
}

namespace {

class json_lines_sink final : public event_sink
{
public:
    explicit json_lines_sink(std::ostream& out) : out_(out) {}
    void on_event(const run_event& ev) override
    {
        // `replace`: a model may stream invalid UTF-8 split across deltas; never throw on it.
        out_ << ev.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        out_.flush();
    }

private:
    std::ostream& out_;
};

}  // namespace

std::unique_ptr<event_sink> make_json_lines_sink(std::ostream& out)
{
    return std::make_unique<json_lines_sink>(out);
}

}  // namespace ep::engine
