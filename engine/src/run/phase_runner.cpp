// One phase in three steps: build its request (no I/O), call the candidates through the
// failover layer under the phase deadline with the one JSON repair, and commit the checkpoint.
#include "run/phase_steps.hpp"
#include "run/services.hpp"
#include "run/workspace_steps.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/routing/routing_error.hpp>
#include <ep/engine/run/json_output.hpp>

#include <boost/asio/this_coro.hpp>
#include <spdlog/logger.h>

namespace ep::engine {

namespace ps = ep::persistence;
namespace pv = ep::providers;

namespace detail {

void phase_log::add(const run_event& ev)
{
    // The store keeps one text_delta per uninterrupted stretch of streamed text: the same text
    // as the live stream, at a fraction of the rows.
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

retry_policy phase_retry_policy(const retry_policy& base, const std::optional<retry_spec>& spec)
{
    retry_policy p = base;
    if (!spec)
        return p;
    if (spec->max_attempts)
    {
        p.max_attempts_per_candidate = *spec->max_attempts;
        p.max_attempts_per_phase = std::max(p.max_attempts_per_phase, *spec->max_attempts);
    }
    if (spec->backoff.initial)
        p.base_delay = *spec->backoff.initial;
    if (spec->backoff.max)
        p.max_delay = *spec->backoff.max;
    if (spec->backoff.multiplier)
        p.multiplier = *spec->backoff.multiplier;
    return p;
}

namespace {

// The user message: the `context: phases` outputs, then the rendered prompt. The context is a
// block of its own marked as a prompt-cache breakpoint (text_part::cache): a long context
// repeated by the phases after it is then read from Anthropic's cache instead of paid again.
pv::message user_message(const phase_spec& ph, const render_context& ctx, const std::string& prompt)
{
    std::string context;
    for (const auto& c : ph.context.phases)
        if (auto it = ctx.phases.find(c.value); it != ctx.phases.end())
            context += "Output of phase '" + c.value + "':\n" + it->second.output + "\n\n";
    if (context.empty())
        return pv::message::user_text(prompt);
    pv::message m;
    m.who = pv::role::user;
    m.parts.emplace_back(pv::text_part{std::move(context), /*cache=*/true});
    m.parts.emplace_back(pv::text_part{prompt});
    return m;
}

// `reasoning:` and `cache:` as the providers module takes them (each adapter maps them to its
// wire format). Unset keys leave the request's defaults: no reasoning control is sent, and
// system prompts over cache_options::min_chars are cached.
void apply_request_features(const request_features& features, pv::chat_request& req)
{
    if (features.reasoning)
        req.reasoning = *features.reasoning;
    if (features.cache)
    {
        // `cache: true` marks the system prompt whatever its size (a block under the
        // provider's minimum is simply not cached); `false` sends no breakpoint at all.
        req.cache.enabled = *features.cache;
        if (*features.cache)
            req.cache.min_chars = 0;
    }
}

}  // namespace

std::optional<phase_failure> build_phase_request(run_state& rs, const instance_ref& ref, const policy& pol,
                                                 pv::chat_request& req)
{
    const auto& ph = rs.phase(ref.phase);
    const auto* persona = pol.find_persona(ph.persona.value);
    const auto& ctx = instance_context(rs, ref.phase, ref.item);
    std::string why;
    auto prompt = render_template(ph.prompt_template, ctx, &why);
    if (!prompt)
        return phase_failure{workflow_errc::render_failed, "cannot render the prompt: " + why};
    if (ph.system_template)
    {
        auto sys = render_template(*ph.system_template, ctx, &why);
        if (!sys)
            return phase_failure{workflow_errc::render_failed, "cannot render the system prompt: " + why};
        req.system = std::move(*sys);
    }
    else if (persona)
        req.system = persona->system;

    if (ph.context.continue_phase)
    {
        const auto& from = ph.context.continue_phase->value;
        auto it = rs.conversations.find(from);
        if (it == rs.conversations.end())
            return phase_failure{workflow_errc::missing_context,
                                 "no stored conversation of phase '" + from + "' to continue"};
        req.messages = it->second.messages;
        if (req.system.empty())
            req.system = it->second.system;
    }
    req.messages.push_back(user_message(ph, ctx, *prompt));
    req.max_tokens = ph.max_tokens ? ph.max_tokens : (persona ? persona->max_tokens : std::nullopt);
    req.temperature = ph.temperature ? ph.temperature : (persona ? persona->temperature : std::nullopt);
    if (ph.output.format == output_format::json)
        req.json_mode = pv::json_output{ph.output.schema, "output"};
    apply_request_features(resolve_request_features(ph, persona), req);
    req.first_token_timeout = ph.first_token_timeout;
    req.metadata["persona"] = ph.persona.value;
    req.metadata["phase"] = ph.id;
    req.metadata["run_id"] = rs.run_id;
    return std::nullopt;
}

failover_callbacks event_callbacks(run_state& rs, const instance_ref& ref, phase_log& log)
{
    failover_callbacks cbs;
    const std::string& id = rs.phase(ref.phase).id;
    auto emit = [&rs, &log, ref](run_event ev) {
        tag(rs, ev, ref.phase, ref.item);
        log.add(ev);
        rs.sink.on_event(ev);
    };
    cbs.on_attempt_started = [&rs, &id, emit](int n, const std::string& provider, const std::string& model) {
        emit(events::phase_started(rs.run_id, id, n, provider, model));
    };
    cbs.on_event = [&rs, &id, emit](const pv::stream_event& ev) {
        if (const auto* t = std::get_if<pv::text_delta_event>(&ev); t && !t->text.empty())
            emit(events::text_delta(rs.run_id, id, t->text));
    };
    cbs.on_attempt_failed = [&rs, &id, emit](const attempt_record& a) {
        if (a.ec != asio::error::operation_aborted)
            emit(events::attempt_failed(rs.run_id, id, a.number, a.provider, a.model, a.describe(), a.status,
                                        a.retry_in));
    };
    return cbs;
}

bool take_call(phase_answer& answer, phase_call_result& r)
{
    answer.in_tokens += r.usage.input_tokens;
    answer.out_tokens += r.usage.output_tokens;
    if (r.ok())
        answer.cost.add(r.cost_usd);
    for (auto& a : r.attempts)
        answer.attempts.push_back(std::move(a));
    if (r.ok())
    {
        answer.provider = r.provider;
        answer.model = r.model;
        return true;
    }
    if (r.ec == asio::error::operation_aborted)
    {
        answer.end = phase_end::cancelled;
        return false;
    }
    answer.end = phase_end::failed;
    answer.failure.code = r.ec;
    // Our own reasons (a budget, the deadline, nothing routable) say more than the last attempt.
    const bool ours = r.ec.category() != providers::provider_category();
    answer.failure.message = !answer.attempts.empty() && !ours ? answer.attempts.back().describe()
                                                               : r.diag.message.empty() ? r.ec.message()
                                                                                        : r.diag.message;
    return false;
}

asio::awaitable<phase_answer> call_phase(run_services& sv, run_state& rs, const instance_ref& ref,
                                         phase_call_plan plan, phase_log& log)
{
    const auto& ph = rs.phase(ref.phase);
    phase_answer answer;
    failover_callbacks cbs = event_callbacks(rs, ref, log);
    std::pair<double, std::int64_t> reserved{};
    cbs.before_call = [&](const candidate& c, const pv::chat_request& req) {
        release_budget(rs, reserved);  // an earlier attempt's worst case is over
        return check_budget(rs, ph, answer.cost.known_usd, c, req, reserved);
    };
    phase_call_result first = co_await sv.failover.call_with_failover(plan.candidates, plan.request, cbs, plan.options);
    release_budget(rs, reserved);
    if (!take_call(answer, first))
        co_return answer;
    auto answer_msg = first.response.to_message();
    std::string output = std::move(first.response.text);
    if (ph.output.format == output_format::json)
    {
        auto check = check_json_output(output, ph.output.schema);
        if (!check.value)
        {
            sv.log.info("run {} phase {}: JSON output rejected ({}); one repair attempt", rs.run_id, ph.id,
                        check.error);
            plan.request.messages.push_back(answer_msg);
            plan.request.messages.push_back(pv::message::user_text(json_repair_prompt(check, ph.output.schema)));
            plan.options.first_attempt_number = static_cast<int>(answer.attempts.size()) + 1;
            phase_call_result second =
                co_await sv.failover.call_with_failover(plan.candidates, plan.request, cbs, plan.options);
            release_budget(rs, reserved);
            if (!take_call(answer, second))
                co_return answer;
            answer_msg = second.response.to_message();
            check = check_json_output(second.response.text, ph.output.schema);
            if (!check.value)
            {
                answer.end = phase_end::failed;
                answer.failure = {workflow_errc::invalid_output,
                                  "invalid JSON output after one repair attempt: " + check.error};
                co_return answer;
            }
        }
        output = check.json_text;
        answer.output_json = std::move(check.value);
    }
    answer.end = phase_end::completed;
    answer.output = std::move(output);
    answer.conversation.system = plan.request.system;
    answer.conversation.messages = std::move(plan.request.messages);
    answer.conversation.messages.push_back(std::move(answer_msg));
    co_return answer;
}

std::string duration_text(std::chrono::milliseconds d)
{
    if (d.count() % 1000 == 0)
        return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

std::vector<ps::attempt_record> to_store_attempts(const run_state& rs, const instance_ref& ref,
                                                  const std::vector<attempt_record>& attempts)
{
    std::vector<ps::attempt_record> out;
    out.reserve(attempts.size());
    for (const auto& a : attempts)
    {
        ps::attempt_record r;
        r.run_id = rs.run_id;
        r.phase_id = rs.phase(ref.phase).id;
        r.iteration = rs.tracks[ref.phase].iteration;
        if (ref.item)
            r.item = static_cast<int>(*ref.item);
        r.attempt = a.number;
        r.provider = a.provider;
        r.model = a.model;
        r.outcome = a.ok() ? ps::attempt_outcome::ok
                           : (a.ec == asio::error::operation_aborted ? ps::attempt_outcome::cancelled
                                                                     : ps::attempt_outcome::failed);
        if (!a.ok())
            r.error = a.describe();
        r.http_status = a.status;
        r.latency = a.latency;
        r.started = a.started;
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

// A resume: the instance completed before; its stored result is used, nothing is sent.
void load_instance(run_state& rs, const instance_ref& ref, const ps::phase_record& stored)
{
    auto& in = rs.instance(ref);
    in.state = phase_state::completed;
    auto& s = in.summary;
    s.status = stored.status;
    s.provider = stored.provider;
    s.model = stored.model;
    s.input_tokens = stored.input_tokens;
    s.output_tokens = stored.output_tokens;
    s.cost_usd = stored.cost_usd;
    s.from_checkpoint = true;
    s.output = stored.output_text;
    if (stored.started && stored.finished)
        s.duration = *stored.finished - *stored.started;
    if (stored.output_json && stored.output_json->is_object() && stored.output_json->contains("exit_code") &&
        rs.phase(ref.phase).kind == phase_kind::command)
        s.exit_code = (*stored.output_json)["exit_code"].get<int>();
    if (!ref.item)
        set_result(rs, ref.phase, {stored.output_text, stored.output_json});
}

// The failover plan of an LLM instance: its request, candidates, retry policy and deadline.
std::optional<phase_failure> plan_call(run_services& sv, run_state& rs, const instance_ref& ref, phase_call_plan& plan)
{
    const auto& ph = rs.phase(ref.phase);
    if (auto failed = build_phase_request(rs, ref, sv.pol, plan.request))
        return failed;
    auto routed = sv.candidates(ph, estimate_prompt_tokens(plan.request));
    plan.candidates = std::move(routed.candidates);
    if (plan.candidates.empty())
        return phase_failure{router_errc::unroutable, routed.error};
    plan.options.retry = phase_retry_policy(sv.failover.options().retry, ph.retry);
    plan.options.on_content_filter = resolve_request_features(ph, sv.pol.find_persona(ph.persona.value)).on_content_filter;
    const auto timeout = ph.timeout.value_or(sv.opts.default_phase_timeout);
    plan.options.deadline = std::chrono::steady_clock::now() + timeout;
    return std::nullopt;
}

}  // namespace

namespace {

// What a completed answer does to the workspace: its files, its gate, its commit.
asio::awaitable<void> finish_answer(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                    phase_answer& answer, std::chrono::steady_clock::time_point t0)
{
    const auto& ph = rs.phase(ref.phase);
    if (answer.end != phase_end::completed)
        co_return;
    if (ph.files)
        write_answer_files(rs, ref, log, answer);
    apply_gate(rs, ref, log, answer,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
    if (answer.end == phase_end::completed && rs.work.git)
        co_await commit_workspace(sv, rs, ref, log, answer);
}

// An LLM instance's call (or the reason it could not be made).
asio::awaitable<void> call_instance(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                    phase_answer& answer)
{
    const auto& ph = rs.phase(ref.phase);
    phase_call_plan plan;
    if (auto failed = plan_call(sv, rs, ref, plan))
    {
        answer.failure = std::move(*failed);
        co_return;
    }
    const auto timeout = ph.timeout.value_or(sv.opts.default_phase_timeout);
    if (ph.tools.empty())
        answer = co_await call_phase(sv, rs, ref, std::move(plan), log);
    else
        answer = co_await call_with_tools(sv, rs, ref, std::move(plan), log);
    if (answer.failure.code == routing_errc::deadline_exceeded)
        answer.failure.message = "timed out after " + duration_text(timeout);
}

}  // namespace

asio::awaitable<void> run_instance(run_services& sv, run_state& rs, instance_ref ref)
{
    // Cancellation is observed, never thrown, so the runner can still record "cancelled".
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    if (const auto* stored = stored_instance(rs, ref.phase, ref.item);
        stored && stored->status == ps::phase_status::completed)
    {
        load_instance(rs, ref, *stored);
        reapply_gate(rs, ref, *stored);
        co_return;
    }
    const auto& ph = rs.phase(ref.phase);
    const auto t0 = std::chrono::steady_clock::now();
    const auto started = ps::now_ms();
    phase_log log;
    phase_answer answer;
    // The store learns of the start later, if at all (mark_running): the checkpoint is this
    // instance's one commit.
    if (rs.instance(ref).cancel_requested)
        answer.end = phase_end::cancelled;
    else
    {
        if (ph.kind == phase_kind::command)
            co_await run_command_phase(sv, rs, ref, log, answer);
        else
            co_await call_instance(sv, rs, ref, log, answer);
        co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
        if (rs.instance(ref).cancel_requested && answer.end != phase_end::completed)
            answer.end = phase_end::cancelled;
        if (!rs.instance(ref).cancel_requested)
            co_await finish_answer(sv, rs, ref, log, answer, t0);
    }
    answer.started = started;
    co_await checkpoint_instance(sv, rs, ref, answer, log);
    rs.instance(ref).summary.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

}  // namespace detail
}  // namespace ep::engine
