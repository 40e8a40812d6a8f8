// One phase: render its request, call the candidates through the failover layer under the
// phase timeout, validate a JSON output (one repair attempt), and commit the checkpoint.
#include "executor/run_state.hpp"

#include <ep/engine/run/json_output.hpp>
#include <ep/engine/template.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

namespace ep::engine {

namespace ps = ep::persistence;
namespace pv = ep::providers;

namespace {

// Events and attempts of one phase, collected for its checkpoint.
struct phase_log
{
    std::vector<ps::event_record> events;
    std::vector<ps::attempt_record> attempts;

    void add(const run_event& ev)
    {
        // The store keeps one text_delta per uninterrupted stretch of streamed text: the same
        // text as the live stream, at a fraction of the rows.
        if (ev.type == "text_delta" && !events.empty() && events.back().type == "text_delta")
        {
            // Appended in place: a long answer streams thousands of deltas.
            auto& t = events.back().payload["text"].get_ref<std::string&>();
            if (auto it = ev.fields.find("text"); it != ev.fields.end() && it->is_string())
                t += it->get_ref<const std::string&>();
            return;
        }
        events.push_back(to_record(ev));
    }
};

struct call_outcome
{
    phase_call_result result;
    bool timed_out = false;
    bool cancelled = false;
};

asio::awaitable<call_outcome> call_with_timeout(failover_executor& fo, const std::vector<candidate>& cands,
                                                pv::chat_request req, const failover_callbacks& cbs,
                                                std::chrono::milliseconds timeout)
{
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto v = co_await (fo.call_with_failover(cands, std::move(req), cbs) ||
                       timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    call_outcome out;
    if (v.index() == 0)
    {
        out.result = std::move(std::get<0>(v));
        out.cancelled = out.result.ec == asio::error::operation_aborted;
    }
    else if (std::get<0>(std::get<1>(v)))
        out.cancelled = true;  // the timer was cancelled: by the run, not by the deadline
    else
        out.timed_out = true;
    co_return out;
}

std::string seconds_text(std::chrono::milliseconds d)
{
    if (d.count() % 1000 == 0)
        return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

}  // namespace

asio::awaitable<void> workflow_executor::run_phase(run_state& rs, std::size_t idx)
{
    // Cancellation is observed, never thrown, so the runner can still record "cancelled".
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);

    const auto& ph = rs.spec.phases[idx];
    auto& sum = rs.summaries[idx];
    const auto t0 = std::chrono::steady_clock::now();
    ps::phase_record rec;
    rec.run_id = rs.run_id;
    rec.phase_id = ph.id;
    rec.started = ps::now_ms();
    phase_log log;
    int attempt_offset = 0;

    auto emit = [&](const run_event& ev) {
        log.add(ev);
        rs.sink.on_event(ev);
    };

    enum class end_kind { completed, failed, cancelled };
    end_kind end = end_kind::failed;
    std::string error;
    pv::conversation conv;

    // ---- build the request -----------------------------------------------------------------
    pv::chat_request req;
    std::vector<candidate> cands;
    // The store learns of the start later, if at all (mark_running): the checkpoint below is
    // this phase's one commit.
    if (rs.cancel_requested[idx])
        end = end_kind::cancelled;
    else
    {
        const auto* persona = policy_.find_persona(ph.persona.value);
        std::string why;
        auto prompt = render_template(ph.prompt_template, rs.context, &why);
        if (!prompt)
            error = "cannot render the prompt: " + why;
        else
        {
            if (ph.system_template)
            {
                if (auto sys = render_template(*ph.system_template, rs.context, &why))
                    req.system = *sys;
                else
                    error = "cannot render the system prompt: " + why;
            }
            else if (persona)
                req.system = persona->system;

            if (ph.context.continue_phase)
            {
                const auto& from = ph.context.continue_phase->value;
                auto it = rs.conversations.find(from);
                if (it == rs.conversations.end())
                    error = "no stored conversation of phase '" + from + "' to continue";
                else
                {
                    req.messages = it->second.messages;
                    if (req.system.empty())
                        req.system = it->second.system;
                }
            }
            std::string user;
            for (const auto& c : ph.context.phases)
            {
                auto it = rs.context.phases.find(c.value);
                if (it != rs.context.phases.end())
                    user += "Output of phase '" + c.value + "':\n" + it->second.output + "\n\n";
            }
            user += *prompt;
            req.messages.push_back(pv::message::user_text(std::move(user)));
            req.max_tokens = ph.max_tokens ? ph.max_tokens : (persona ? persona->max_tokens : std::nullopt);
            req.temperature = ph.temperature ? ph.temperature : (persona ? persona->temperature : std::nullopt);
            if (ph.output.format == output_format::json)
                req.json_mode = pv::json_output{ph.output.schema, "output"};
            req.metadata["persona"] = ph.persona.value;
            req.metadata["phase"] = ph.id;
            req.metadata["run_id"] = rs.run_id;
        }
        if (error.empty())
        {
            auto routed = candidates_(ph, estimate_prompt_tokens(req));
            cands = std::move(routed.candidates);
            if (cands.empty())
                error = routed.error.empty() ? "no available provider for persona '" + ph.persona.value +
                                                   "' under mix '" + rs.mix +
                                                   "' (set the provider's API key or base URL, or use --emulate)"
                                             : routed.error;
        }
    }

    // ---- call (and repair a JSON answer once) ---------------------------------------------------
    failover_callbacks cbs;
    cbs.on_attempt_started = [&](int n, const std::string& provider, const std::string& model) {
        const int number = attempt_offset + n;
        sum.provider = provider;
        sum.model = model;
        ps::attempt_record a;
        a.run_id = rs.run_id;
        a.phase_id = ph.id;
        a.attempt = number;
        a.provider = provider;
        a.model = model;
        a.outcome = ps::attempt_outcome::cancelled;  // until we hear otherwise
        a.started = ps::now_ms();
        log.attempts.push_back(std::move(a));
        emit(events::phase_started(rs.run_id, ph.id, number, provider, model));
    };
    cbs.on_event = [&](const pv::stream_event& ev) {
        if (const auto* t = std::get_if<pv::text_delta_event>(&ev); t && !t->text.empty())
            emit(events::text_delta(rs.run_id, ph.id, t->text));
    };
    cbs.on_attempt_failed = [&](const engine::attempt_record& a) {
        const int number = attempt_offset + a.number;
        for (auto& r : log.attempts)
            if (r.attempt == number)
            {
                const bool cancel = a.ec == asio::error::operation_aborted;
                r.outcome = cancel ? ps::attempt_outcome::cancelled : ps::attempt_outcome::failed;
                r.error = a.describe();
                r.http_status = a.status;
                r.latency = a.latency;
            }
        if (a.ec != asio::error::operation_aborted)
            emit(events::attempt_failed(rs.run_id, ph.id, number, a.provider, a.model, a.describe(), a.status,
                                        a.retry_in));
    };

    const auto timeout = ph.timeout.value_or(opts_.default_phase_timeout);
    std::string output;
    std::optional<nlohmann::json> output_json;
    std::int64_t in_tokens = 0, out_tokens = 0;
    double cost = 0;

    auto settle_attempts = [&](const phase_call_result& r) {
        for (const auto& a : r.attempts)
            if (a.ok())
                for (auto& rr : log.attempts)
                    if (rr.attempt == attempt_offset + a.number)
                    {
                        rr.outcome = ps::attempt_outcome::ok;
                        rr.latency = a.latency;
                        rr.error.clear();
                    }
        in_tokens += r.usage.input_tokens;
        out_tokens += r.usage.output_tokens;
        cost += r.cost_usd;
        attempt_offset = static_cast<int>(log.attempts.size());
    };

    auto classify_failure = [&](const call_outcome& c) {
        if (c.cancelled || rs.cancel_requested[idx])
        {
            end = end_kind::cancelled;
            return;
        }
        end = end_kind::failed;
        if (c.timed_out)
        {
            error = "timed out after " + seconds_text(timeout);
            for (auto& r : log.attempts)
                if (r.outcome == ps::attempt_outcome::cancelled)
                {
                    r.outcome = ps::attempt_outcome::failed;
                    r.error = "phase timeout";
                }
        }
        else
        {
            error = c.result.ec.message();
            if (!c.result.attempts.empty())
                error = c.result.attempts.back().describe();
            else if (auto d = c.result.diag.to_string(); !d.empty())
                error += ": " + d;
        }
    };

    if (error.empty() && end != end_kind::cancelled)
    {
        auto first = co_await call_with_timeout(failover_, cands, req, cbs, timeout);
        co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
        if (first.cancelled || first.timed_out || !first.result.ok() || rs.cancel_requested[idx])
            classify_failure(first);
        else
        {
            settle_attempts(first.result);
            sum.provider = first.result.provider;
            sum.model = first.result.model;
            output = first.result.response.text;
            auto answer_msg = first.result.response.to_message();
            end = end_kind::completed;
            if (ph.output.format == output_format::json)
            {
                auto check = check_json_output(output, ph.output.schema);
                if (!check.value)
                {
                    log_->info("run {} phase {}: JSON output rejected ({}); one repair attempt", rs.run_id, ph.id,
                               check.error);
                    req.messages.push_back(answer_msg);
                    req.messages.push_back(pv::message::user_text(json_repair_prompt(check, ph.output.schema)));
                    auto second = co_await call_with_timeout(failover_, cands, req, cbs, timeout);
                    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
                    if (second.cancelled || second.timed_out || !second.result.ok() || rs.cancel_requested[idx])
                        classify_failure(second);
                    else
                    {
                        settle_attempts(second.result);
                        sum.provider = second.result.provider;
                        sum.model = second.result.model;
                        output = second.result.response.text;
                        answer_msg = second.result.response.to_message();
                        check = check_json_output(output, ph.output.schema);
                        if (!check.value)
                        {
                            end = end_kind::failed;
                            error = "invalid JSON output after one repair attempt: " + check.error;
                        }
                    }
                }
                if (end == end_kind::completed)
                {
                    output = check.json_text;
                    output_json = std::move(check.value);
                }
            }
            if (end == end_kind::completed)
            {
                conv.system = req.system;
                conv.messages = req.messages;
                conv.messages.push_back(std::move(answer_msg));
            }
        }
    }

    // ---- checkpoint -------------------------------------------------------------------------
    rs.checkpoint_queued[idx] = true;  // no "running" mark may follow (mark_running)
    rec.finished = ps::now_ms();
    rec.attempts = static_cast<int>(log.attempts.size());
    rec.provider = sum.provider;
    rec.model = sum.model;
    rec.input_tokens = in_tokens;
    rec.output_tokens = out_tokens;
    rec.cost_usd = cost;
    // The attempts go into the checkpoint's transaction: one commit per phase.
    std::optional<run_event> final_event;
    if (end == end_kind::completed)
    {
        rec.status = ps::phase_status::completed;
        rec.output_text = output;
        rec.output_json = output_json;
        final_event = events::phase_completed(rs.run_id, ph.id, sum.provider, sum.model, in_tokens, out_tokens, cost,
                                              output);
        log.add(*final_event);
        ps::event_record conv_rec;
        conv_rec.run_id = rs.run_id;
        conv_rec.ts = ps::now_ms();
        conv_rec.type = conversation_event_type;
        conv_rec.payload = {{"phase", ph.id}, {"format", "openai"}, {"messages", pv::to_openai_messages(conv)}};
        log.events.push_back(std::move(conv_rec));
        auto committed = co_await store_.commit_phase(rec, log.events, log.attempts);
        if (!committed)
        {
            end = end_kind::failed;
            error = "cannot save the phase result: " + committed.error().to_string();
            log.events.clear();  // rolled back; record the failure below instead
            final_event.reset();
        }
    }
    if (end != end_kind::completed)
    {
        rec.status = end == end_kind::cancelled ? ps::phase_status::cancelled : ps::phase_status::failed;
        if (end == end_kind::cancelled)
            error = "cancelled: " + (rs.stop_reason.empty() ? std::string("interrupted") : rs.stop_reason);
        rec.error = error;
        rec.output_text.clear();
        rec.output_json.reset();
        final_event = events::phase_failed(rs.run_id, ph.id, error);
        log.add(*final_event);
        if (auto r = co_await store_.commit_phase(rec, log.events, log.attempts); !r)
            log_->error("run {} phase {}: cannot record the failure: {}", rs.run_id, ph.id, r.error().to_string());
    }
    rs.sink.on_event(*final_event);

    sum.status = rec.status;
    sum.error = error;
    sum.input_tokens = in_tokens;
    sum.output_tokens = out_tokens;
    sum.cost_usd = cost;
    sum.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    if (end == end_kind::completed)
    {
        sum.output = output;
        rs.context.phases[ph.id] = {output, output_json};
        rs.conversations[ph.id] = std::move(conv);
        rs.states[idx] = phase_state::completed;
    }
    else
        rs.states[idx] = end == end_kind::cancelled ? phase_state::cancelled : phase_state::failed;
}

}  // namespace ep::engine
