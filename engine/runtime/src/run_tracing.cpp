// The run's spans from its events: invoke_workflow (run) → phase → chat {model} per attempt.
#include <ep/runtime/event_hub.hpp>
#include <ep/runtime/otel.hpp>

#include <map>

namespace ep::runtime {

namespace {

class run_tracing_sink final : public engine::event_sink
{
public:
    explicit run_tracing_sink(std::shared_ptr<otel_tracer> t) : tracer_(std::move(t)) {}
    ~run_tracing_sink() override { end_all("the run ended without run_completed"); }

    void on_event(const engine::run_event& ev) override
    {
        const auto& t = ev.type;
        if (t == "run_started")
            start_run(ev);
        else if (t == "phase_started")
            start_attempt(ev);
        else if (t == "attempt_failed")
            fail_attempt(ev);
        else if (t == "phase_completed")
            complete_phase(ev);
        else if (t == "phase_failed")
            fail_phase(ev);
        else if (t == "phase_skipped")
            skip_phase(ev);
        else if (t == "run_completed")
            complete_run(ev);
    }

private:
    void start_run(const engine::run_event& ev)
    {
        end_all("superseded");
        const auto workflow = ev.field("workflow");
        run_ = tracer_->start_span("invoke_workflow " + workflow, span_kind::internal, nullptr);
        run_->set("gen_ai.operation.name", "invoke_workflow").set("ep.run_id", ev.run_id).set("ep.workflow", workflow)
            .set("ep.mix", ev.field("mix"));
    }

    otel_span& phase_span(const engine::run_event& ev, const std::string& key)
    {
        auto it = phases_.find(key);
        if (it == phases_.end())
        {
            auto s = tracer_->start_span("phase " + ev.field("phase"), span_kind::internal, run_ ? &*run_ : nullptr);
            s.set("ep.phase", ev.field("phase")).set("ep.run_id", ev.run_id);
            it = phases_.emplace(key, std::move(s)).first;
        }
        return it->second;
    }

    void start_attempt(const engine::run_event& ev)
    {
        const auto key = event_instance(ev.type, ev.fields);
        auto& phase = phase_span(ev, key);
        if (ev.field("provider").empty())
            return;  // a command phase: its phase span only, no chat span
        if (auto open = chats_.find(key); open != chats_.end())
        {
            open->second.fail("_OTHER", "superseded by the next attempt");
            tracer_->end_span(std::move(open->second));
            chats_.erase(open);
        }
        const auto provider = ev.field("provider");
        const auto model = ev.field("model");
        auto s = tracer_->start_span("chat " + model, span_kind::client, &phase);
        s.set("gen_ai.operation.name", "chat").set("gen_ai.provider.name", genai_provider_name(provider))
            .set("gen_ai.request.model", model).set("ep.provider", provider)
            .set("ep.attempt", static_cast<std::int64_t>(ev.fields.value("attempt", 0)));
        chats_.emplace(key, std::move(s));
    }

    void fail_attempt(const engine::run_event& ev)
    {
        const auto key = event_instance(ev.type, ev.fields);
        auto it = chats_.find(key);
        if (it == chats_.end())
            return;
        std::optional<int> status;
        if (auto st = ev.fields.find("status"); st != ev.fields.end() && st->is_number_integer())
            status = st->get<int>();
        it->second.fail(error_type_of(ev.field("error"), status), ev.field("error"));
        tracer_->end_span(std::move(it->second));
        chats_.erase(it);
    }

    void complete_phase(const engine::run_event& ev)
    {
        const auto key = event_instance(ev.type, ev.fields);
        const auto usage = ev.fields.value("usage", nlohmann::json::object());
        const std::int64_t in = usage.value("input_tokens", std::int64_t{0});
        const std::int64_t out = usage.value("output_tokens", std::int64_t{0});
        if (auto it = chats_.find(key); it != chats_.end())
        {
            auto& s = it->second;
            s.set("gen_ai.response.model", ev.field("model")).set("gen_ai.usage.input_tokens", in)
                .set("gen_ai.usage.output_tokens", out);
            if (tracer_->config().capture_content)
                s.set("gen_ai.output.messages",
                      nlohmann::json::array({{{"role", "assistant"},
                                              {"parts", nlohmann::json::array({{{"type", "text"}, {"content", ev.field("output")}}})}}})
                          .dump());
            s.status = span_status::ok;
            tracer_->end_span(std::move(s));
            chats_.erase(it);
        }
        auto& phase = phase_span(ev, key);
        phase.set("ep.provider", ev.field("provider")).set("ep.model", ev.field("model"))
            .set("gen_ai.usage.input_tokens", in).set("gen_ai.usage.output_tokens", out);
        if (const auto cost = ev.cost_usd())  // absent when unknown (a model without a price)
            phase.set("ep.cost_usd", *cost);
        phase.status = span_status::ok;
        end_phase(key);
    }

    void fail_phase(const engine::run_event& ev)
    {
        const auto key = event_instance(ev.type, ev.fields);
        const auto why = ev.field("error");
        if (auto it = chats_.find(key); it != chats_.end())
        {
            it->second.fail(error_type_of(why, std::nullopt), why);
            tracer_->end_span(std::move(it->second));
            chats_.erase(it);
        }
        phase_span(ev, key).fail(error_type_of(why, std::nullopt), why);
        end_phase(key);
    }

    void skip_phase(const engine::run_event& ev)
    {
        const auto key = event_instance(ev.type, ev.fields);
        phase_span(ev, key).set("ep.skipped", ev.field("reason"));
        end_phase(key);
    }

    void end_phase(const std::string& key)
    {
        if (auto it = phases_.find(key); it != phases_.end())
        {
            tracer_->end_span(std::move(it->second));
            phases_.erase(it);
        }
    }

    void complete_run(const engine::run_event& ev)
    {
        const auto status = ev.field("status");
        end_all("the run ended (" + status + ")");
        if (run_)
        {
            run_->set("ep.status", status);
            if (status == "succeeded")
                run_->status = span_status::ok;
            else
                run_->fail(status, "run " + status);
            tracer_->end_span(std::move(*run_));
            run_.reset();
        }
        tracer_->flush();  // the run is over: do not wait for the batch timer
    }

    // Spans still open when their parent ends: closed as cancelled, children first.
    void end_all(const std::string& why)
    {
        for (auto& [key, s] : chats_)
        {
            s.fail("cancelled", why);
            tracer_->end_span(std::move(s));
        }
        chats_.clear();
        for (auto& [key, s] : phases_)
        {
            s.fail("cancelled", why);
            tracer_->end_span(std::move(s));
        }
        phases_.clear();
    }

    std::shared_ptr<otel_tracer> tracer_;
    std::optional<otel_span> run_;
    std::map<std::string, otel_span> phases_;
    std::map<std::string, otel_span> chats_;
};

}  // namespace

std::unique_ptr<engine::event_sink> otel_tracer::run_sink()
{
    return std::make_unique<run_tracing_sink>(shared_from_this());
}

}  // namespace ep::runtime
