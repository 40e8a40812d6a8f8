#include <ep/engine/routing/failover.hpp>
#include <ep/engine/routing/routing_error.hpp>

#include "routing/stream_attempt.hpp"

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

bool is_cancelled(asio::cancellation_state st) { return st.cancelled() != asio::cancellation_type::none; }

std::string failure_label(const attempt_record& a)
{
    return a.status ? std::to_string(*a.status) : a.ec.message();
}

std::function<double()> default_random()
{
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

// What earlier attempts of this phase rule out for later candidates.
struct phase_state
{
    int attempts = 0;
    std::optional<std::int64_t> min_context;  // later candidates need a larger window than this
    std::set<std::string> dead_providers;    // auth failures and the like
    std::set<std::string> refused_models;    // invalid request or content filter
};

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
        opts_.logger = std::make_shared<spdlog::logger>("failover", spdlog::sinks_init_list{});
}

asio::awaitable<phase_call_result> failover_executor::call_with_failover(const std::vector<candidate>& candidates,
                                                                         pe::chat_request base,
                                                                         const failover_callbacks& cb)
{
    const bool previous_throw = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    auto& log = *opts_.logger;
    const auto& policy = opts_.retry;

    phase_call_result result;
    phase_state st;
    bool cancelled = false;
    bool succeeded = false;
    bool stopped = false;

    auto skip = [&](const candidate& c, std::string why) {
        log.info("skipping {}/{}: {}", c.provider_name(), c.model, why);
        result.skipped.push_back({c.provider_name(), c.model, std::move(why)});
        if (cb.on_skip)
            cb.on_skip(result.skipped.back());
    };

    for (std::size_t i = 0; i < candidates.size() && !cancelled && !succeeded && !stopped; ++i)
    {
        const candidate& c = candidates[i];
        const std::string& pname = c.provider_name();
        if (st.attempts >= policy.max_attempts_per_phase)
        {
            log.warn("phase attempt budget ({}) used up before {}/{}", policy.max_attempts_per_phase, pname, c.model);
            break;
        }
        if (st.min_context && c.info.context_window <= *st.min_context)
        {
            skip(c, "context window " + std::to_string(c.info.context_window) + " is not larger than " +
                        std::to_string(*st.min_context));
            continue;
        }
        if (st.dead_providers.count(pname))
        {
            skip(c, "provider failed authentication or is unusable");
            continue;
        }
        if (st.refused_models.count(c.model))
        {
            skip(c, "model refused the request");
            continue;
        }
        auto breaker = opts_.circuits->get(pname, c.model);
        int on_candidate = 0;
        bool next = false;
        while (!next)
        {
            if (!breaker->allow())
            {
                skip(c, on_candidate == 0 ? "circuit open" : "circuit opened after the failures above");
                break;
            }
            pe::chat_request req = base;
            req.model = c.model;

            // Limits: a concurrency slot and the rate budget, both cancellable while waiting.
            limit_lease lease;
            if (opts_.limits)
            {
                if (auto ec = co_await opts_.limits->acquire(pname, estimate_prompt_tokens(req), lease))
                {
                    breaker->release();
                    cancelled = true;
                    break;
                }
            }

            ++st.attempts;
            ++on_candidate;
            attempt_record rec;
            rec.number = st.attempts;
            rec.provider = pname;
            rec.model = c.model;
            log.info("attempt {}: calling {}/{}", rec.number, pname, c.model);
            if (cb.on_attempt_started)
                cb.on_attempt_started(rec.number, pname, c.model);

            const auto started = opts_.time->now();
            auto out = co_await detail::stream_attempt(*c.target, req, cb.on_event);
            rec.latency = std::chrono::duration_cast<milliseconds>(opts_.time->now() - started);
            lease.settle(out.response.totals.input_tokens + out.response.totals.output_tokens);
            lease = limit_lease{};

            if (is_cancelled(co_await asio::this_coro::cancellation_state))
            {
                // The user's cancel, whatever the provider made of it: not the provider's fault.
                breaker->release();
                rec.ec = asio::error::operation_aborted;
                rec.decision = "cancelled";
                if (out.streamed_output && cb.on_discard)
                    cb.on_discard(rec, "cancelled");
                result.attempts.push_back(std::move(rec));
                cancelled = true;
                break;
            }

            // A success needs both an empty status and the terminal event (never lie).
            if (out.status.ok() && !out.finished)
            {
                out.status.ec = pe::provider_errc::stream_truncated;
                out.status.diag.message = "the call reported success without a finish event";
            }
            if (out.status.ok())
            {
                breaker->record_success();
                rec.decision = "completed";
                result.ec = {};  // earlier failures stay in `attempts`
                result.diag = {};
                result.response = std::move(out.response);
                if (result.response.model.empty())
                    result.response.model = c.model;
                result.provider = pname;
                result.model = c.model;
                result.usage = result.response.totals;
                price_table prices = price_table::from(c.info);
                prices.cached_input_per_mtok = c.cached_input_price_per_mtok;
                result.cost_usd = compute_cost_usd(prices, result.usage);
                result.attempts.push_back(std::move(rec));
                log.info("{}/{} completed on attempt {} ({} in, {} out tokens, ${:.6f})", pname, c.model,
                         st.attempts, result.usage.input_tokens, result.usage.output_tokens, result.cost_usd);
                succeeded = true;
                break;
            }

            // A failure.
            rec.ec = out.status.ec;
            rec.diag = out.status.diag;
            rec.status = out.status.diag.http_status;
            const bool later = i + 1 < candidates.size();
            auto plan = plan_after_failure(policy, rec.ec, rec.diag, on_candidate, st.attempts, later,
                                           opts_.random());
            if (plan.counts_against_circuit)
                breaker->record_failure();
            else
                breaker->release();
            if (plan.action == failure_action::retry_same && breaker->is_open())
            {
                plan.action = failure_action::next_candidate;
                plan.reason = "the circuit of " + pname + "/" + c.model + " opened";
            }
            rec.decision = to_string(plan.action);
            rec.reason = plan.reason;
            if (plan.action == failure_action::retry_same)
                rec.retry_in = plan.delay;

            if (out.streamed_output)
            {
                rec.discarded_chars = out.response.text.size();
                const std::string why = "the stream failed after output (" + rec.ec.message() +
                                        "); the partial output is discarded";
                log.warn("attempt {} on {}/{}: {} ({} chars)", rec.number, pname, c.model, why,
                         rec.discarded_chars);
                if (cb.on_discard)
                    cb.on_discard(rec, why);
            }
            switch (plan.action)
            {
            case failure_action::retry_same:
                log.warn("retrying {}/{} after {} in {} ms: {}", pname, c.model, failure_label(rec),
                         plan.delay.count(), rec.diag.to_string());
                break;
            case failure_action::next_candidate:
                log.warn("falling back from {}/{} after {}: {}; {}", pname, c.model, failure_label(rec), plan.reason,
                         rec.diag.to_string());
                break;
            case failure_action::stop:
                log.error("giving up the phase after {} on {}/{}: {}; {}", failure_label(rec), pname, c.model,
                          plan.reason, rec.diag.to_string());
                break;
            }
            if (cb.on_attempt_failed)
                cb.on_attempt_failed(rec);
            result.ec = rec.ec;
            result.diag = rec.diag;
            result.attempts.push_back(rec);

            if (plan.needs_larger_context)
                st.min_context = std::max(st.min_context.value_or(0), c.info.context_window);
            if (plan.skip_provider)
                st.dead_providers.insert(pname);
            if (plan.skip_model)
                st.refused_models.insert(c.model);

            if (plan.action == failure_action::stop)
            {
                stopped = true;
                break;
            }
            if (plan.action == failure_action::next_candidate)
            {
                next = true;
                break;
            }
            if (auto ec = co_await opts_.time->sleep_for(plan.delay))
            {
                log.info("cancelled while waiting to retry {}/{}", pname, c.model);
                cancelled = true;
                break;
            }
        }
    }

    if (cancelled)
    {
        result.ec = asio::error::operation_aborted;
        result.diag = pe::diagnostics{};
        result.diag.message = "cancelled";
        result.response = {};
    }
    else if (!succeeded)
    {
        result.response = {};
        result.provider.clear();
        result.model.clear();
        if (result.attempts.empty())
        {
            result.ec = candidates.empty() ? routing_errc::no_candidates : routing_errc::all_candidates_skipped;
            result.diag.message = result.ec.message();
            for (auto const& s : result.skipped)
                result.diag.message += "; " + s.provider + "/" + s.model + ": " + s.reason;
        }
        log.error("phase failed after {} attempt(s): {}", result.attempts.size(), result.diag.to_string());
    }
    co_await asio::this_coro::throw_if_cancelled(previous_throw);
    co_return result;
}

}  // namespace ep::engine
