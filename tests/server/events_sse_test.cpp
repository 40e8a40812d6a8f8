// GET /v1/runs/{id}/events over real HTTP: a live run followed to its end; reconnections with
// Last-Event-ID in the middle of streaming phases (nothing missed, nothing twice, compared with
// the stored log); 204 for a client that has everything; 400 for a Last-Event-ID from the future;
// heartbeats; a subscriber whose queue overflows is caught up from the store, and the run does
// not wait for it.
#include "server_fixture.hpp"

#include <ep/emulator/faults.hpp>
#include <ep/runtime/event_hub.hpp>

namespace ep::server::test {
namespace {

// Per instance: non-text events in order and text stretch by stretch (see event_cursor_test).
std::map<std::string, std::vector<std::string>> normalise(const std::vector<json>& events)
{
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& e : events)
    {
        const auto type = e.value("type", std::string{});
        auto& tokens = out[runtime::event_instance(type, e)];
        if (type == "text_delta")
        {
            if (!tokens.empty() && tokens.back().rfind("text:", 0) == 0)
                tokens.back() += e.value("text", std::string{});
            else
                tokens.push_back("text:" + e.value("text", std::string{}));
        }
        else
            tokens.push_back(type + "#" + std::to_string(e.value("attempt", 0)));
    }
    return out;
}

server_harness::options paced()
{
    server_harness::options o;
    o.emulator.time_to_first_token = 10ms;
    o.emulator.tokens_per_second = 400;
    return o;
}

std::string submit(server_harness& h, const std::string& workflow = "design-implement-review")
{
    auto r = post(h.port(), "/v1/runs", {{"workflow", workflow}, {"inputs", {{"task", "a rate limiter"}}}});
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.body_json().value("run_id", "");
}

// The whole stored log as a client that connects after the end sees it.
std::vector<json> replay(server_harness& h, const std::string& id)
{
    sse_client c(h.port(), "/v1/runs/" + id + "/events");
    std::vector<json> all;
    while (auto e = c.next())
        all.push_back(e->data);
    return all;
}

TEST(events_sse, a_live_run_streams_every_event_and_ends_after_run_completed)
{
    server_harness h(paced());
    const auto id = submit(h);
    sse_client c(h.port(), "/v1/runs/" + id + "/events");
    ASSERT_EQ(c.status(), 200u);
    EXPECT_EQ(c.headers().at("content-type"), "text/event-stream");
    EXPECT_EQ(c.headers().at("cache-control"), "no-cache");
    std::vector<json> events;
    std::set<std::string> ids;
    while (auto e = c.next())
    {
        events.push_back(e->data);
        EXPECT_TRUE(ids.insert(e->id).second) << "ids are unique: " << e->id;
        EXPECT_EQ(e->data["run_id"], id);
    }
    ASSERT_GE(events.size(), 8u);
    EXPECT_EQ(events.front()["type"], "run_started");
    EXPECT_EQ(events.back()["type"], "run_completed");
    EXPECT_EQ(events.back()["status"], "succeeded");
    std::size_t deltas = 0;
    std::map<std::string, std::string> text;
    // design-implement-review loops (implement → review until approved): a phase's stored
    // output is its last pass, so the text is gathered per pass.
    for (const auto& e : events)
        if (e["type"] == "phase_started")
            text[e["phase"]].clear();
        else if (e["type"] == "text_delta")
        {
            ++deltas;
            text[e["phase"]] += e["text"].get<std::string>();
        }
    EXPECT_GT(deltas, 20u) << "text arrives delta by delta while phases run";
    for (const auto& phase : {"design", "implement", "review"})
        EXPECT_EQ(text[phase], get(h.port(), std::string("/v1/runs/") + id + "/outputs/" + phase).body) << phase;
    EXPECT_EQ(normalise(events), normalise(replay(h, id)));
}

TEST(events_sse, reconnecting_mid_phase_with_last_event_id_misses_nothing_and_repeats_nothing)
{
    server_harness h(paced());
    const auto id = submit(h);
    std::vector<json> received;
    std::string last;
    int mid_phase_cuts = 0;
    // Three connections, each cut after a few text deltas of a phase that is still streaming.
    for (int cut : {5, 17, 9})
    {
        std::map<std::string, std::string> headers;
        if (!last.empty())
            headers["Last-Event-ID"] = last;
        sse_client c(h.port(), "/v1/runs/" + id + "/events", headers);
        ASSERT_EQ(c.status(), 200u);
        int deltas = 0;
        while (auto e = c.next())
        {
            received.push_back(e->data);
            last = e->id;
            if (e->data["type"] == "text_delta" && ++deltas == cut)
                break;
        }
        c.close();
        mid_phase_cuts += last.find('~') != std::string::npos ? 1 : 0;  // a position inside an uncommitted phase
        std::this_thread::sleep_for(30ms);  // the run goes on meanwhile
    }
    {
        sse_client c(h.port(), "/v1/runs/" + id + "/events", {{"Last-Event-ID", last}});
        while (auto e = c.next())
        {
            received.push_back(e->data);
            last = e->id;
        }
    }
    ASSERT_EQ(received.back()["type"], "run_completed");
    EXPECT_GE(mid_phase_cuts, 2) << "the cuts landed while phases were streaming";
    EXPECT_EQ(normalise(received), normalise(replay(h, id)));
    // The client has everything: 204 stops EventSource's reconnecting.
    EXPECT_EQ(get(h.port(), "/v1/runs/" + id + "/events", {{"Last-Event-ID", last}}).status, 204u);
}

TEST(events_sse, a_last_event_id_from_the_future_or_malformed_is_400)
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    server_harness h(o);
    const auto id = submit(h);
    h.wait_for_status(id, "completed");
    auto future = get(h.port(), "/v1/runs/" + id + "/events", {{"Last-Event-ID", "99999"}});
    EXPECT_EQ(future.status, 400u);
    EXPECT_NE(future.body_json()["error"]["message"].get<std::string>().find("future"), std::string::npos);
    EXPECT_EQ(get(h.port(), "/v1/runs/" + id + "/events", {{"Last-Event-ID", "12~x y"}}).status, 400u);
    EXPECT_EQ(get(h.port(), "/v1/runs/" + id + "/events?last_event_id=abc").status, 400u);
    EXPECT_EQ(get(h.port(), "/v1/runs/20990101T000000Z-00000000/events").status, 404u);
    // A valid id in the middle resumes after it.
    sse_client c(h.port(), "/v1/runs/" + id + "/events", {{"Last-Event-ID", "2"}});
    auto first = c.next();
    ASSERT_TRUE(first);
    EXPECT_NE(first->data["type"], "run_started");
}

TEST(events_sse, an_idle_stream_gets_heartbeats)
{
    auto o = paced();
    o.emulator.zero_latency = true;
    o.server.sse_heartbeat = 100ms;
    server_harness h(o);
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("slow:1200,times=1"), {}, {}, "architect"});
    const auto id = submit(h);
    sse_client c(h.port(), "/v1/runs/" + id + "/events");
    while (auto e = c.next())
        if (e->data["type"] == "text_delta")
            break;
    EXPECT_GE(c.heartbeats(), 4) << "1.2 s of silence at 100 ms per heartbeat";
}

TEST(events_sse, a_subscriber_whose_queue_overflows_is_caught_up_from_the_store)
{
    auto o = paced();
    o.emulator.zero_latency = true;
    o.server.sse_queue_capacity = 0;  // every live event overflows it: the client follows by catching up
    server_harness h(o);
    const auto id = submit(h);
    sse_client c(h.port(), "/v1/runs/" + id + "/events");
    std::vector<json> events;
    while (auto e = c.next())
        events.push_back(e->data);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["type"], "run_completed");
    EXPECT_EQ(normalise(events), normalise(replay(h, id)));
    const auto metrics = get(h.port(), "/metrics").body;
    const auto at = metrics.find("\nep_sse_resyncs_total ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::stod(metrics.substr(at + 22)), 1) << "the queue overflowed at least once";
}

TEST(events_sse, a_stream_stays_open_at_an_approval_gate_and_follows_the_run_after_the_decision)
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    o.server.sse_poll_interval = 50ms;
    server_harness h(o);
    const std::string yaml = "name: gated\nphases:\n  draft: {persona: architect, prompt: write it}\n"
                             "  review: {needs: [draft], approval: {prompt: ship it}}\n"
                             "  publish: {persona: architect, needs: [review], prompt: publish it}\n";
    auto r = post(h.port(), "/v1/runs", {{"yaml", yaml}});
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = r.body_json()["run_id"].get<std::string>();
    sse_client c(h.port(), "/v1/runs/" + id + "/events");
    std::vector<std::string> statuses;
    bool waiting_seen = false;
    while (auto e = c.next())
    {
        const auto type = e->data.value("type", "");
        if (type == "phase_waiting")
        {
            waiting_seen = true;
            h.wait_for_status(id, "waiting");
            auto a = post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "review"}});
            ASSERT_EQ(a.status, 202u) << a.body;
        }
        if (type == "run_completed")
            statuses.push_back(e->data.value("status", ""));
    }
    EXPECT_TRUE(waiting_seen);
    EXPECT_EQ(statuses, (std::vector<std::string>{"waiting", "succeeded"}));
}

TEST(event_hub, a_full_queue_marks_the_subscriber_overflowed_and_never_blocks_the_publisher)
{
    boost::asio::io_context ioc;
    runtime::event_hub hub(ioc.get_executor(), 2);
    auto snap = hub.subscribe();
    for (int i = 0; i < 1000; ++i)
        hub.on_event(engine::events::text_delta("r", "a", "x"));
    EXPECT_TRUE(snap.subscription->overflowed());
    EXPECT_TRUE(snap.subscription->take().empty());
    // The tail kept one coalesced delta for the late subscriber.
    auto late = hub.subscribe();
    ASSERT_EQ(late.tail.size(), 1u);
    EXPECT_EQ(late.tail[0].field("text"), std::string(1000, 'x'));
    hub.on_event(engine::events::phase_completed("r", "a", "p", "m", 1, 1, 0, "x"));
    EXPECT_EQ(hub.subscribe().tail.size(), 0u) << "a committed phase leaves the tail";
    hub.close();
    EXPECT_TRUE(late.subscription->closed());
    EXPECT_FALSE(hub.subscribe().subscription);
}

}  // namespace
}  // namespace ep::server::test
