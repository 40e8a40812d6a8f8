// GET /v1/runs/{id}/events: the run's `--json` event stream as Server-Sent Events. Each event's
// `id:` is an event_cursor (event_cursor.hpp), so `Last-Event-ID` (header, or ?last_event_id=
// for a first connection) resumes with nothing missed and nothing twice, whether the run is
// live in this process (stored log + its hub's uncommitted tail + live events), executed by
// another process (the stored log, re-read every sse_poll_interval) or finished (the stored log;
// a client that has everything gets 204, which stops EventSource from reconnecting). The stream
// ends after run_completed (not a run_completed{waiting}: a gate's decision continues the run); idle streams get a comment line every sse_heartbeat. A client
// whose queue overflows (it reads slower than the run writes) is caught up from the store and a
// fresh subscription instead of slowing the run down.
#include "api/api_common.hpp"
#include "api/event_cursor.hpp"
#include "api/run_requests.hpp"
#include "server_impl.hpp"

#include <ep/runtime/event_hub.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

namespace ep::server {

namespace {

constexpr std::size_t fetch_batch = 512;
constexpr std::size_t flush_bytes = 64 * 1024;

struct stream_state
{
    stream_state(server::impl& server, request_context& context, std::string id)
        : s(server), ctx(context), run_id(std::move(id))
    {
    }

    server::impl& s;
    request_context& ctx;
    std::string run_id;
    event_cursor cursor;
    std::string buffer;        // SSE text not written yet
    bool started = false;      // the response head was sent
    bool completed = false;    // run_completed was sent
    bool failed = false;       // the client went away (or the store failed)
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();

    void add(const nlohmann::json& ev)
    {
        buffer += "id: ";
        buffer += cursor.id();
        buffer += "\ndata: ";
        buffer += dump_json(ev);
        buffer += "\n\n";
        // A run stopped at an approval gate ends its session with run_completed{waiting}, but
        // the run goes on once someone decides: the stream stays open for that.
        if (ev.value("type", std::string{}) == "run_completed" && ev.value("status", std::string{}) != "waiting")
            completed = true;
    }

    asio::awaitable<void> start()
    {
        if (started)
            co_return;
        started = true;
        http::response<http::empty_body> head{http::status::ok, ctx.req.version()};
        head.set(http::field::content_type, "text/event-stream");
        head.set(http::field::cache_control, "no-cache");
        head.set("X-Accel-Buffering", "no");
        head.keep_alive(ctx.req.keep_alive());
        failed = bool(co_await ctx.out.start_stream(std::move(head)));
        buffer.insert(0, "retry: 1000\n\n");
    }

    asio::awaitable<void> flush()
    {
        if (!started)
            co_await start();
        if (failed || buffer.empty())
            co_return;
        failed = bool(co_await ctx.out.write(buffer));
        buffer.clear();
        last_write = std::chrono::steady_clock::now();
    }

    // Everything stored after the cursor: what the client has not seen goes into the buffer.
    asio::awaitable<void> catch_up()
    {
        for (;;)
        {
            auto events = co_await s.rt.fetch_events(run_id, cursor.fetch_after(), fetch_batch);
            if (!events)
            {
                s.log->error("events of run {}: {}", run_id, events.error().message);
                failed = true;
                co_return;
            }
            for (const auto& e : *events)
                if (auto out = cursor.take_stored(e))
                    add(*out);
            if (events->size() < fetch_batch)
            {
                cursor.end_of_stored();
                co_return;
            }
            if (started && buffer.size() > flush_bytes)
                co_await flush();
            if (failed)
                co_return;
        }
    }
};

// Follows a run live in this process until run_completed, the hub closes, the queue overflows
// or the client leaves.
asio::awaitable<void> follow(stream_state& st, runtime::event_hub::snapshot snap)
{
    st.cursor.restart_live();
    for (const auto& ev : snap.tail)
        if (auto out = st.cursor.take_live(ev))
            st.add(*out);
    co_await st.flush();
    auto& sub = *snap.subscription;
    while (!st.failed && !st.completed && !st.s.stopping)
    {
        co_await sub.wait(st.s.cfg.sse_heartbeat);
        if (!sub.ready())
        {
            st.failed = bool(co_await st.ctx.out.write(": keep-alive\n\n"));
            continue;
        }
        bool committed = false;
        for (const auto& ev : sub.take())
        {
            if (auto out = st.cursor.take_live(ev))
                st.add(*out);
            committed = committed || runtime::closes_block(ev.type);
        }
        // A block just committed: let the cursor's seq cover it, so ids stay short.
        if (committed)
            co_await st.catch_up();
        co_await st.flush();
        if (sub.overflowed())
            st.s.metrics.sse_resync();
        if (sub.overflowed() || (sub.closed() && !st.completed))
            co_return;  // caught up from the store and resubscribed by the caller
    }
}

asio::awaitable<void> run_events(server::impl& s, request_context& ctx)
{
    const std::string id = ctx.params["id"];
    auto run = co_await s.rt.fetch_run(id);
    if (!run)
        co_return co_await reply(ctx, runtime_error_response(ctx.req, run.error()));
    const std::string last = last_event_id(ctx.req, ctx.query);
    stream_state st(s, ctx, id);
    if (!last.empty())
    {
        auto c = event_cursor::parse(last);
        if (!c)
            co_return co_await reply(ctx, error_response(ctx.req, http::status::bad_request, "invalid_request_error",
                                                           "malformed Last-Event-ID"));
        if (c->seq() > 0)
        {
            auto probe = co_await s.rt.fetch_events(id, c->seq() - 1, 1);
            if (!probe || probe->empty() || probe->front().seq != c->seq())
                co_return co_await reply(ctx, 
                    error_response(ctx.req, http::status::bad_request, "invalid_request_error",
                                   "Last-Event-ID " + std::to_string(c->seq()) + " is not an event of run " + id +
                                       " (it is from the future, or from another run)"));
        }
        st.cursor = *c;
    }

    ++s.sse_streams;
    struct counted
    {
        std::size_t& n;
        ~counted() { --n; }
    } count{s.sse_streams};

    while (!st.failed && !st.completed && !s.stopping)
    {
        auto hub = s.registry.hub(id);
        auto snap = hub ? hub->subscribe() : runtime::event_hub::snapshot{};
        co_await st.catch_up();
        if (st.failed)
            break;
        if (snap.subscription)
        {
            co_await follow(st, std::move(snap));
            continue;
        }
        // Not running here: finished, or executed by another process (re-read the store).
        auto now = co_await s.rt.fetch_run(id);
        const bool finished = !now || persistence::is_finished(now->run.status);
        if (finished && !s.registry.in_flight(id))
        {
            if (!st.started && st.buffer.empty() && !last.empty())
            {
                response none{http::status::no_content, ctx.req.version()};
                none.keep_alive(ctx.req.keep_alive());
                none.prepare_payload();
                co_return co_await reply(ctx, std::move(none));
            }
            break;
        }
        co_await st.flush();
        if (st.failed)
            break;
        asio::steady_timer wait(s.ioc, std::min(s.cfg.sse_poll_interval, s.cfg.sse_heartbeat));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
        if (st.buffer.empty() && std::chrono::steady_clock::now() - st.last_write >= s.cfg.sse_heartbeat)
            st.buffer = ": keep-alive\n\n";
    }
    co_await st.flush();
    if (!st.failed)
        co_await ctx.out.finish();
}

}  // namespace

void add_event_routes(server::impl& s)
{
    s.routes.add(http::verb::get, "/v1/runs/{id}/events", [&s](request_context& ctx) { return run_events(s, ctx); });
}

}  // namespace ep::server
