// The OpenAI-compatible gateway: POST /v1/chat/completions (streaming and not) and
// GET /v1/models. `model` is persona/NAME (routed by the persona policy under the mix of the
// `x-ep-mix` header or the server's default) or PROVIDER/MODEL; both go through the runtime's
// failover layer, so retries, fallback and circuit breakers are those of a phase. The answer
// names who answered in `x-ep-provider` / `x-ep-model`.
//
// Streaming: nothing is sent until the first output of an attempt, so a failure before that is
// retried or falls back invisibly and, if all fail, is an ordinary HTTP error. Once output has
// reached the client it cannot be taken back: a later failure (a cut or stalled upstream, which
// the failover layer would retry) ends the call, and the client gets an error event and no
// `[DONE]` — a cut stream is never presented as complete.
#include "api/api_common.hpp"
#include "api/openai_format.hpp"
#include "server_impl.hpp"

#include <ep/runtime/otel.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <deque>
#include <random>

namespace ep::server {

namespace pv = ep::providers;

namespace {

std::string completion_id()
{
    static std::mt19937_64 rng{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::string id = "chatcmpl-";
    for (int i = 0; i < 24; ++i)
        id += digits[rng() & 15];
    return id;
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

response openai_error_response(const request& req, http::status status, std::string_view message, std::string_view type,
                               std::string_view param = {}, std::string_view code = {})
{
    return json_response(req, status, openai_error(message, type, param, code));
}

// Metrics and a `chat {model}` span per attempt, around the caller's own callbacks.
struct call_observer
{
    explicit call_observer(server::impl& server) : s(server) {}

    server::impl& s;
    std::optional<runtime::otel_span> span;
    std::string provider, model;
    std::chrono::steady_clock::time_point attempt_started;
    bool first_token = false;

    void started(const std::string& p, const std::string& m)
    {
        provider = p;
        model = m;
        attempt_started = std::chrono::steady_clock::now();
        first_token = false;
        s.metrics.chat_attempt_started(p, m);
        if (auto& t = s.rt.tracer())
        {
            span = t->start_span("chat " + m, runtime::span_kind::client, nullptr);
            span->set("gen_ai.operation.name", "chat").set("gen_ai.provider.name", runtime::genai_provider_name(p))
                .set("gen_ai.request.model", m).set("ep.gateway", std::int64_t{1});
        }
    }
    void output()
    {
        if (first_token)
            return;
        first_token = true;
        s.metrics.chat_first_token(provider, model, std::chrono::steady_clock::now() - attempt_started);
    }
    void failed(const engine::attempt_record& a)
    {
        const auto type = runtime::error_type_of(a.describe(), a.status);
        s.metrics.chat_attempt_failed(a.provider, a.model, type);
        if (span)
        {
            span->fail(type, a.describe());
            s.rt.tracer()->end_span(std::move(*span));
            span.reset();
        }
    }
    void finished(const engine::phase_call_result& r)
    {
        s.metrics.chat_finished(r.provider, r.model, r.usage.input_tokens, r.usage.output_tokens, r.cost_usd, r.ok());
        if (span)
        {
            if (r.ok())
            {
                span->set("gen_ai.response.model", r.model).set("gen_ai.usage.input_tokens", r.usage.input_tokens)
                    .set("gen_ai.usage.output_tokens", r.usage.output_tokens);
                span->status = runtime::span_status::ok;
            }
            else
                span->fail(runtime::error_type_of(r.ec.message(), std::nullopt), r.ec.message());
            s.rt.tracer()->end_span(std::move(*span));
            span.reset();
        }
    }
};

// Errors of the runtime before any call (unknown model, unroutable persona, broken policy).
response routing_error_response(server::impl& s, const request& req, const runtime::runtime_error& e)
{
    using runtime::runtime_errc;
    if (e.code == runtime_errc::unknown_model)
        return openai_error_response(req, http::status::not_found, e.message, "invalid_request_error", "model",
                                     "model_not_found");
    if (e.code == runtime_errc::unroutable)
        return openai_error_response(req, http::status::service_unavailable, e.message, "service_unavailable", "model",
                                     "no_route");
    s.log->error("gateway: {}", e.message);
    return openai_error_response(req, http::status::internal_server_error, "the gateway's routing policy cannot be loaded",
                                 "api_error");
}

response call_failure_response(const request& req, const engine::phase_call_result& r)
{
    const auto f = classify_failure(r.ec);
    std::string message = !r.attempts.empty() ? r.attempts.back().describe() : r.ec.message();
    return openai_error_response(req, f.status, message, f.type, {}, f.code);
}

asio::awaitable<void> complete_once(server::impl& s, request_context& ctx, runtime::chat_call call)
{
    call_observer obs(s);
    engine::failover_callbacks cbs;
    cbs.on_attempt_started = [&](int, const std::string& p, const std::string& m) { obs.started(p, m); };
    cbs.on_event = [&](const pv::stream_event& ev) {
        if (std::holds_alternative<pv::text_delta_event>(ev) || std::holds_alternative<pv::tool_call_delta_event>(ev))
            obs.output();
    };
    cbs.on_attempt_failed = [&](const engine::attempt_record& a) { obs.failed(a); };
    auto r = co_await s.rt.chat(std::move(call), cbs);
    if (!r)
        co_return co_await reply(ctx, routing_error_response(s, ctx.req, r.error()));
    obs.finished(*r);
    if (!r->ok())
        co_return co_await reply(ctx, call_failure_response(ctx.req, *r));
    auto res = json_response(ctx.req, http::status::ok,
                             completion_json(completion_id(), unix_now(), r->provider + "/" + r->model, r->response));
    res.set("x-ep-provider", r->provider);
    res.set("x-ep-model", r->model);
    co_await ctx.out.send(std::move(res));
}

// The streamed call: the failover coroutine produces SSE lines into `pending`, this handler
// writes them; both on the one strand.
struct stream_call
{
    stream_call(server::impl& server, request_context& context, chunk_writer writer)
        : s(server), ctx(context), chunks(std::move(writer)), obs(server), wake(server.ioc)
    {
    }

    server::impl& s;
    request_context& ctx;
    chunk_writer chunks;
    call_observer obs;
    std::deque<std::string> pending;
    asio::steady_timer wake;
    asio::cancellation_signal cancel;
    bool output_sent = false;     // an attempt's output was queued for the client
    std::string answering_provider, answering_model;
    std::string current_provider, current_model;
    std::optional<std::string> cut;  // the output already sent was discarded upstream
    std::optional<runtime::result<engine::phase_call_result>> result;
    bool finished = false;  // the spawned call is completely done (its completion handler ran)

    void push(const json& chunk)
    {
        pending.push_back("data: " + dump_json(chunk) + "\n\n");
        wake.cancel();
    }
};

asio::awaitable<void> run_stream_call(stream_call& sc, runtime::chat_call call, const engine::failover_callbacks& cbs)
{
    auto r = co_await sc.s.rt.chat(std::move(call), cbs);
    sc.result = std::move(r);
}

asio::awaitable<void> complete_streaming(server::impl& s, request_context& ctx, runtime::chat_call call,
                                         bool include_usage)
{
    stream_call sc(s, ctx, chunk_writer(completion_id(), unix_now(), call.model, include_usage));
    engine::failover_callbacks cbs;
    cbs.on_attempt_started = [&](int, const std::string& p, const std::string& m) {
        sc.obs.started(p, m);
        sc.current_provider = p;
        sc.current_model = m;
        sc.chunks.reset();
    };
    cbs.on_event = [&](const pv::stream_event& ev) {
        auto chunk = sc.chunks.event_chunk(ev);
        if (!chunk || sc.cut)
            return;
        sc.obs.output();
        if (!sc.output_sent)
        {
            sc.output_sent = true;
            sc.answering_provider = sc.current_provider;
            sc.answering_model = sc.current_model;
            sc.chunks.set_model(sc.current_provider + "/" + sc.current_model);
            (*chunk)["model"] = sc.current_provider + "/" + sc.current_model;
            sc.push(sc.chunks.role_chunk());
        }
        sc.push(*chunk);
    };
    cbs.on_discard = [&](const engine::attempt_record& a, const std::string& reason) {
        if (sc.output_sent && !sc.cut)
        {
            // The client has part of this answer: no retry can complete it. Stop here.
            sc.cut = a.describe().empty() ? reason : a.describe();
            sc.cancel.emit(asio::cancellation_type::terminal);
        }
    };
    cbs.on_attempt_failed = [&](const engine::attempt_record& a) { sc.obs.failed(a); };

    // `sc` (and the cancellation signal the call is bound to) must outlive the spawned call
    // entirely, past the point where asio last touches its cancellation slot: the loop below
    // ends only once this completion handler ran, not when the result was set.
    asio::co_spawn(s.ioc, run_stream_call(sc, std::move(call), cbs),
                   asio::bind_cancellation_slot(sc.cancel.slot(), [&sc](std::exception_ptr e) {
                       if (e && !sc.result)
                           sc.result.emplace(runtime::runtime_error{runtime::runtime_errc::store_failed, "internal error", {}});
                       sc.finished = true;
                       sc.wake.cancel();
                   }));

    bool head_sent = false, client_gone = false;
    for (;;)
    {
        if (!head_sent && sc.output_sent)
        {
            http::response<http::empty_body> head{http::status::ok, ctx.req.version()};
            head.set(http::field::content_type, "text/event-stream");
            head.set(http::field::cache_control, "no-cache");
            head.set("X-Accel-Buffering", "no");
            head.set("x-ep-provider", sc.answering_provider);
            head.set("x-ep-model", sc.answering_model);
            head.keep_alive(ctx.req.keep_alive());
            client_gone = bool(co_await ctx.out.start_stream(std::move(head)));
            head_sent = true;
            if (client_gone)
                sc.cancel.emit(asio::cancellation_type::terminal);
        }
        if (head_sent && !sc.pending.empty())
        {
            std::string batch;
            while (!sc.pending.empty())
            {
                batch += sc.pending.front();
                sc.pending.pop_front();
            }
            if (!client_gone && (client_gone = bool(co_await ctx.out.write(batch))))
                sc.cancel.emit(asio::cancellation_type::terminal);
            continue;  // more may have been queued while writing
        }
        if (sc.finished)
            break;
        // Nothing to do until the call produces something (single strand: no lost wake-up).
        sc.wake.expires_at(std::chrono::steady_clock::time_point::max());
        co_await sc.wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // The call is over (its callbacks, which use `sc`, will not run again).
    auto& r = *sc.result;
    if (!r)
        co_return co_await reply(ctx, routing_error_response(s, ctx.req, r.error()));
    sc.obs.finished(*r);
    if (!head_sent)
    {
        if (!r->ok())
            co_return co_await reply(ctx, call_failure_response(ctx.req, *r));
        // Nothing streamed (an empty answer): the head now, then the end.
        http::response<http::empty_body> head{http::status::ok, ctx.req.version()};
        head.set(http::field::content_type, "text/event-stream");
        head.set(http::field::cache_control, "no-cache");
        head.set("x-ep-provider", r->provider);
        head.set("x-ep-model", r->model);
        head.keep_alive(ctx.req.keep_alive());
        sc.chunks.set_model(r->provider + "/" + r->model);
        if (co_await ctx.out.start_stream(std::move(head)))
            co_return;
        sc.push(sc.chunks.role_chunk());
    }
    if (client_gone)
        co_return;
    if (r->ok() && !sc.cut)
    {
        sc.push(sc.chunks.finish_chunk(r->response.reason));
        if (include_usage)
            sc.push(sc.chunks.usage_chunk(r->response.totals));
        sc.pending.push_back("data: [DONE]\n\n");
    }
    else
    {
        const auto f = classify_failure(sc.cut ? pv::make_error_code(pv::provider_errc::stream_truncated) : r->ec);
        std::string message = sc.cut ? "the upstream stream broke after output was sent: " + *sc.cut
                                      : (!r->attempts.empty() ? r->attempts.back().describe() : r->ec.message());
        sc.pending.push_back("data: " + dump_json(openai_error(message, f.type, {}, f.code)) + "\n\n");
    }
    std::string tail;
    for (auto& p : sc.pending)
        tail += p;
    if (!co_await ctx.out.write(tail))
        co_await ctx.out.finish();
}

asio::awaitable<void> chat_completions(server::impl& s, request_context& ctx)
{
    auto body = parse_json_object(ctx.req, false);
    if (!body.value)
        co_return co_await reply(ctx, 
            openai_error_response(ctx.req, http::status::bad_request, body.error, "invalid_request_error"));
    auto parsed = parse_chat_request(*body.value);
    if (auto* p = std::get_if<request_problem>(&parsed))
        co_return co_await reply(ctx, 
            openai_error_response(ctx.req, http::status::bad_request, p->message, "invalid_request_error", p->param));
    auto& cc = std::get<chat_completion_request>(parsed);
    std::string mix = s.cfg.default_mix;
    if (auto h = ctx.req.find("x-ep-mix"); h != ctx.req.end())
    {
        if (!is_allowed_mix(h->value()))
            co_return co_await reply(ctx, openai_error_response(ctx.req, http::status::bad_request,
                                                                  "x-ep-mix must be one of the mixes A, B, C, D, E",
                                                                  "invalid_request_error", "x-ep-mix"));
        mix = std::string(h->value());
    }
    runtime::chat_call call;
    call.model = cc.model;
    call.mix = mix;
    call.request = std::move(cc.request);
    call.request.metadata["gateway"] = "ep-serve";
    call.timeout = s.cfg.chat_timeout;
    if (cc.stream)
        co_await complete_streaming(s, ctx, std::move(call), cc.include_usage);
    else
        co_await complete_once(s, ctx, std::move(call));
}

asio::awaitable<void> list_models(server::impl& s, request_context& ctx)
{
    // The personas and each available provider's catalogue models, as OpenAI lists models.
    json data = json::array();
    const auto created = unix_now();
    engine::diagnostics diag;
    engine::policy_options popts;
    popts.workflows_dir = s.rt.config().workflows_dir;
    popts.config = s.cfg.default_mix;
    popts.personas_file = s.rt.config().personas_file;
    auto pol = engine::load_policy(popts, s.rt.config().env, diag);
    if (!pol)
    {
        s.log->error("GET /v1/models: the policy does not load: {}", diag.str());
        co_return co_await reply(ctx, openai_error_response(ctx.req, http::status::internal_server_error,
                                                              "the routing policy cannot be loaded", "api_error"));
    }
    for (const auto& [name, persona] : pol->personas)
        data.push_back({{"id", "persona/" + name}, {"object", "model"}, {"created", created}, {"owned_by", "ep"}});
    for (const auto& [name, p] : pol->providers)
        if (p.available)
            for (const auto& m : p.models)
                data.push_back({{"id", name + "/" + m.id}, {"object", "model"}, {"created", created}, {"owned_by", name}});
    // (Named, not a braced list inside the co_await: g++ 12 rejects those.)
    const json list = {{"object", "list"}, {"data", std::move(data)}};
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, list));
}

}  // namespace

void add_gateway_routes(server::impl& s)
{
    s.routes.add(http::verb::post, "/v1/chat/completions", [&s](request_context& ctx) { return chat_completions(s, ctx); });
    s.routes.add(http::verb::get, "/v1/models", [&s](request_context& ctx) { return list_models(s, ctx); });
}

}  // namespace ep::server
