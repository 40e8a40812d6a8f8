#include <ep/engine/routing/failover.hpp>
#include <ep/engine/error.hpp>
#include <ep/engine/routing/routing_error.hpp>

#include "routing/failover_decisions.hpp"

#include <ep/common/logging.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>

namespace ep::engine {

using std::chrono::milliseconds;
namespace pe = ep::providers;

std::string attempt_record::describe() const
{
    std::string out = ec ? ec.message() : "completed";
    const auto detail = diag.to_string();
    if (!detail.empty())
        out += " (" + detail + ")";
    if (!decision.empty())
        out += "; " + decision;
    if (retry_in)
        out += " in " + std::to_string(retry_in->count()) + " ms";
    if (!reason.empty())
        out += ": " + reason;
    return out;
}

std::int64_t estimate_prompt_tokens(const pe::chat_request& req)
{
    std::size_t chars = req.system.size();
    for (auto const& m : req.messages)
        for (auto const& part : m.parts)
        {
            if (auto const* t = std::get_if<pe::text_part>(&part))
                chars += t->text.size();
            else if (auto const* c = std::get_if<pe::tool_call>(&part))
                chars += c->arguments.size() + c->name.size();
            else if (auto const* r = std::get_if<pe::tool_result>(&part))
                chars += r->content.size();
        }
    return static_cast<std::int64_t>(chars / 4 + 1);
}

namespace {

std::function<double()> default_random()
{
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

const failover_callbacks& no_failover_callbacks() noexcept
{
    static const failover_callbacks none;
    return none;
}

failover_executor::failover_executor(failover_options opts) : opts_(std::move(opts))
{
    if (!opts_.circuits)
        opts_.circuits = std::make_shared<circuit_registry>();
    if (!opts_.time)
        opts_.time = make_steady_time_source();
    if (!opts_.random)
        opts_.random = default_random();
    if (!opts_.logger)
        opts_.logger = ep::default_logger();
}

namespace {

// Everything one call_with_failover shares between its steps.
struct call_state
{
    call_state(const failover_options& o, const std::vector<candidate>& c, const pe::chat_request& b,
               const failover_callbacks& callbacks, const failover_call_options& call)
        : opts(o), cands(c), base(b), cb(callbacks), deadline(call.deadline), policy(call.retry.value_or(o.retry)),
          decide(policy, call.on_content_filter, call.first_attempt_number)
    {
    }

    const failover_options& opts;
    const std::vector<candidate>& cands;
    const pe::chat_request& base;
    const failover_callbacks& cb;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    retry_policy policy;
    detail::failover_decisions decide;  // keeps a reference to `policy`
    phase_call_result result;
    bool cancelled = false;
    bool succeeded = false;
    bool stopped = false;        // no further candidate is tried (stop plan, budget, deadline)
    bool deadline_passed = false;  // the deadline came before any attempt could start
    std::string refusal;           // before_call said not to make a call (a budget)

    bool done() const noexcept { return cancelled || succeeded || stopped; }
    spdlog::logger& log() const { return *opts.logger; }
    /// Time left before the deadline (max() without one); zero once it has passed.
    std::chrono::steady_clock::duration remaining() const
    {
        using clock = std::chrono::steady_clock;
        if (!deadline)
            return clock::duration::max();
        return std::max(clock::duration::zero(), *deadline - clock::now());
    }
};

// One attempt's stream, folded as it arrives.
struct attempt_outcome
{
    pe::call_status status;
    pe::chat_response response;
    bool finished = false;         // a finish_event arrived
    bool streamed_output = false;  // text or tool-call output reached the caller
    bool deadline_hit = false;     // the phase deadline cancelled the call
};

bool is_output(const pe::stream_event& ev)
{
    return std::holds_alternative<pe::text_delta_event>(ev) || std::holds_alternative<pe::tool_call_delta_event>(ev) ||
           std::holds_alternative<pe::tool_call_complete_event>(ev);
}

asio::awaitable<void> stream_into(pe::provider& p, const pe::chat_request& req, const failover_callbacks& cb,
                                  attempt_outcome& out)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    pe::event_callback on_event = [&out, &cb](const pe::stream_event& ev) {
        out.finished = out.finished || std::holds_alternative<pe::finish_event>(ev);
        out.streamed_output = out.streamed_output || is_output(ev);
        if (cb.on_event)
            cb.on_event(ev);
    };
    pe::call_result r = co_await pe::stream_call(p, req, std::move(on_event));
    out.status = std::move(r.status);
    out.response = std::move(r.response);
    // A stream that ends on the content filter (OpenAI finish_reason content_filter, Gemini
    // SAFETY, Anthropic refusal) completed on the wire but is a refusal, not an answer: it is
    // the content_filter failure that on_content_filter decides about (S13).
    if (!out.status.ec && out.response.reason == pe::finish_reason::content_filter)
    {
        out.status.ec = pe::provider_errc::content_filter;
        out.status.diag.message = "the provider's content filter stopped the answer (finish reason " +
                                  (out.response.raw_reason.empty() ? std::string("content_filter")
                                                                   : out.response.raw_reason) + ")";
    }
}

// The provider call, raced against the phase deadline when there is one.
asio::awaitable<attempt_outcome> run_attempt(call_state& st, const candidate& c, const pe::chat_request& req)
{
    attempt_outcome out;
    if (!st.deadline)
    {
        co_await stream_into(*c.target, req, st.cb, out);
        co_return out;
    }
    using namespace asio::experimental::awaitable_operators;
    // A real timer even under a virtual time_source: the deadline is wall time the user waits.
    asio::steady_timer timer(co_await asio::this_coro::executor, *st.deadline);
    auto call = stream_into(*c.target, req, st.cb, out);
    auto expiry = timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto raced = co_await (std::move(call) || std::move(expiry));
    if (raced.index() == 1 && !std::get<0>(std::get<1>(raced)) &&
        (co_await asio::this_coro::cancellation_state).cancelled() == asio::cancellation_type::none)
    {
        out.deadline_hit = true;
        out.status.ec = routing_errc::deadline_exceeded;
        out.status.diag.message = "the phase's timeout passed during the call";
    }
    co_return out;
}

void skip(call_state& st, const candidate& c, std::string why)
{
    st.log().info("skipping {}/{}: {}", c.provider_name(), c.model, why);
    st.result.skipped.push_back({c.provider_name(), c.model, std::move(why)});
    if (st.cb.on_skip)
        st.cb.on_skip(st.result.skipped.back());
}

void succeed(call_state& st, const candidate& c, attempt_record rec, attempt_outcome& out)
{
    rec.decision = "completed";
    st.result.ec = {};  // earlier failures stay in `attempts`
    st.result.diag = {};
    st.result.response = std::move(out.response);
    if (st.result.response.model.empty())
        st.result.response.model = c.model;
    st.result.provider = c.provider_name();
    st.result.model = c.model;
    st.result.usage = st.result.response.totals;
    price_table prices = price_table::from(c.info);
    if (c.cached_input_price_per_mtok)  // the candidate's own figure wins over the catalogue's
        prices.cached_input_per_mtok = c.cached_input_price_per_mtok;
    st.result.cost_usd = compute_cost(prices, st.result.usage);
    st.result.attempts.push_back(std::move(rec));
    st.succeeded = true;
}

void log_failure(call_state& st, const candidate& c, const attempt_record& rec, const failure_plan& plan)
{
    const auto label = rec.status ? std::to_string(*rec.status) : rec.ec.message();
    switch (plan.action)
    {
    case failure_action::retry_same:
        st.log().warn("retrying {}/{} after {} in {} ms: {}", c.provider_name(), c.model, label, plan.delay.count(),
                      rec.diag.to_string());
        break;
    case failure_action::next_candidate:
        st.log().warn("falling back from {}/{} after {}: {}; {}", c.provider_name(), c.model, label, plan.reason,
                      rec.diag.to_string());
        break;
    case failure_action::stop:
        st.log().error("giving up the phase after {} on {}/{}: {}; {}", label, c.provider_name(), c.model,
                       plan.reason, rec.diag.to_string());
        break;
    }
}

// Records a failed attempt and decides what comes next (the circuit is charged here).
failure_plan fail(call_state& st, std::size_t index, circuit_breaker& breaker, attempt_record rec,
                  const attempt_outcome& out, int on_candidate)
{
    const candidate& c = st.cands[index];
    rec.ec = out.status.ec;
    rec.diag = out.status.diag;
    rec.status = out.status.diag.http_status;
    const bool later = index + 1 < st.cands.size();
    failure_plan plan = st.decide.after_failure(c, rec, on_candidate, later, st.opts.random());
    if (out.deadline_hit)
        detail::failover_decisions::deadline_too_close(plan, false);
    if (plan.counts_against_circuit && !out.deadline_hit)
        breaker.record_failure();
    else
        breaker.release();
    if (breaker.is_open())
        detail::failover_decisions::circuit_opened(plan, c);
    if (plan.action == failure_action::retry_same && plan.delay >= st.remaining())
        detail::failover_decisions::deadline_too_close(plan, later);
    if (st.deadline)
        detail::failover_decisions::stall_retry_must_fit(plan, rec, st.remaining(), later);
    rec.decision = to_string(plan.action);
    rec.reason = plan.reason;
    if (plan.action == failure_action::retry_same)
        rec.retry_in = plan.delay;
    if (out.streamed_output)
    {
        rec.discarded_chars = out.response.text.size();
        const std::string why =
            "the stream failed after output (" + rec.ec.message() + "); the partial output is discarded";
        st.log().warn("attempt {} on {}/{}: {} ({} chars)", rec.number, c.provider_name(), c.model, why,
                      rec.discarded_chars);
        if (st.cb.on_discard)
            st.cb.on_discard(rec, why);
    }
    log_failure(st, c, rec, plan);
    if (st.cb.on_attempt_failed)
        st.cb.on_attempt_failed(rec);
    st.result.ec = rec.ec;
    st.result.diag = rec.diag;
    st.result.attempts.push_back(std::move(rec));
    return plan;
}

void cancel(call_state& st, attempt_record rec, const attempt_outcome& out)
{
    // The user's cancel, whatever the provider made of it: not the provider's fault.
    rec.ec = asio::error::operation_aborted;
    rec.decision = "cancelled";
    if (out.streamed_output && st.cb.on_discard)
        st.cb.on_discard(rec, "cancelled");
    st.result.attempts.push_back(std::move(rec));
    st.cancelled = true;
}

bool is_cancelled(asio::cancellation_state cs) { return cs.cancelled() != asio::cancellation_type::none; }

// Attempts on one candidate until it succeeds, is given up, or the call ends.
asio::awaitable<void> try_candidate(call_state& st, std::size_t index)
{
    const candidate& c = st.cands[index];
    if (auto why = st.decide.skip_reason(c))
        co_return skip(st, c, std::move(*why));
    auto breaker = st.opts.circuits->get(c.provider_name(), c.model);
    for (int on_candidate = 1;; ++on_candidate)
    {
        if (!st.decide.budget_left())
        {
            st.log().warn("phase attempt budget ({}) used up before {}/{}", st.policy.max_attempts_per_phase,
                          c.provider_name(), c.model);
            st.stopped = true;
            co_return;
        }
        if (st.deadline && st.remaining() == std::chrono::steady_clock::duration::zero())
        {
            st.deadline_passed = true;
            st.stopped = true;
            co_return;
        }
        if (!breaker->allow())
            co_return skip(st, c, on_candidate == 1 ? "circuit open" : "circuit opened after the failures above");
        pe::chat_request req = st.base;
        req.model = c.model;
        if (st.cb.before_call)
            if (auto refused = st.cb.before_call(c, req))
            {
                breaker->release();
                st.refusal = std::move(*refused);
                st.stopped = true;
                co_return;
            }
        limit_lease lease;  // a concurrency slot and the rate budget, both cancellable
        if (st.opts.limits)
            if (auto ec = co_await st.opts.limits->acquire(c.provider_name(), estimate_prompt_tokens(req), lease))
            {
                breaker->release();
                st.cancelled = true;
                co_return;
            }
        attempt_record rec;
        rec.number = st.decide.start_attempt();
        rec.provider = c.provider_name();
        rec.model = c.model;
        rec.started = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
        st.log().info("attempt {}: calling {}/{}", rec.number, rec.provider, rec.model);
        if (st.cb.on_attempt_started)
            st.cb.on_attempt_started(rec.number, rec.provider, rec.model);
        const auto started = st.opts.time->now();
        attempt_outcome out = co_await run_attempt(st, c, req);
        rec.latency = std::chrono::duration_cast<milliseconds>(st.opts.time->now() - started);
        lease.settle(out.response.totals.input_tokens + out.response.totals.output_tokens);
        lease = limit_lease{};

        if (is_cancelled(co_await asio::this_coro::cancellation_state))
        {
            breaker->release();
            co_return cancel(st, std::move(rec), out);
        }
        if (out.status.ok() && !out.finished)  // a success needs the terminal event (never lie)
        {
            out.status.ec = pe::provider_errc::stream_truncated;
            out.status.diag.message = "the call reported success without a finish event";
        }
        if (out.status.ok())
        {
            breaker->record_success();
            co_return succeed(st, c, std::move(rec), out);
        }
        const failure_plan plan = fail(st, index, *breaker, std::move(rec), out, on_candidate);
        if (plan.action != failure_action::retry_same)
        {
            st.stopped = plan.action == failure_action::stop;
            co_return;
        }
        if (auto ec = co_await st.opts.time->sleep_for(plan.delay))
        {
            st.log().info("cancelled while waiting to retry {}/{}", c.provider_name(), c.model);
            st.cancelled = true;
            co_return;
        }
    }
}

void finish(call_state& st, bool nothing_to_call)
{
    auto& result = st.result;
    if (st.cancelled)
    {
        result.ec = asio::error::operation_aborted;
        result.diag = pe::diagnostics{};
        result.diag.message = "cancelled";
        result.response = {};
        return;
    }
    if (st.succeeded)
        return;
    result.response = {};
    result.provider.clear();
    result.model.clear();
    if (!st.refusal.empty())
    {
        result.ec = workflow_errc::budget_exceeded;
        result.diag = pe::diagnostics{};
        result.diag.message = st.refusal;
    }
    else if (st.deadline_passed)
    {
        result.ec = routing_errc::deadline_exceeded;
        result.diag = pe::diagnostics{};
        result.diag.message = "the phase's timeout passed before another attempt could start";
    }
    else if (result.attempts.empty())
    {
        result.ec = nothing_to_call ? routing_errc::no_candidates : routing_errc::all_candidates_skipped;
        result.diag.message = result.ec.message();
        for (auto const& s : result.skipped)
            result.diag.message += "; " + s.provider + "/" + s.model + ": " + s.reason;
    }
    st.log().error("phase failed after {} attempt(s): {}", result.attempts.size(), result.diag.to_string());
}

}  // namespace

asio::awaitable<phase_call_result> failover_executor::call_with_failover(const std::vector<candidate>& candidates,
                                                                         pe::chat_request base,
                                                                         const failover_callbacks& cb,
                                                                         failover_call_options call)
{
    const bool previous_throw = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    call_state st(opts_, candidates, base, cb, call);
    for (std::size_t i = 0; i < candidates.size() && !st.done(); ++i)
        co_await try_candidate(st, i);
    finish(st, candidates.empty());
    co_await asio::this_coro::throw_if_cancelled(previous_throw);
    co_return std::move(st.result);
}

}  // namespace ep::engine
