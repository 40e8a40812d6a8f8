// event_cursor: SSE resumption without gaps or duplicates, proven on a simulated run with two
// phases streaming in parallel, a failed attempt, a skipped phase and a third phase — for every
// event a client may have received last before it disconnected, every moment it may come back,
// and both orders of a checkpoint commit versus what the client saw. The simulated server
// mirrors events_api.cpp: the stored log (blocks in commit order, text coalesced per stretch,
// each block visible once committed), the real event_hub's uncommitted tail and live queue, and
// a catch-up from the store after every block-closing live event.
#include "api/event_cursor.hpp"

#include <ep/runtime/event_hub.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ep::server {
namespace {

using nlohmann::json;
namespace ev = engine::events;

struct simulated_run
{
    std::vector<engine::run_event> live;           // in emission order
    std::vector<persistence::event_record> stored;  // seq order
    std::vector<std::size_t> visible_at;            // stored[i] is in the store once live[visible_at[i]] was emitted
};

const std::string run_id = "20260101T000000Z-abcd0123";

// run_started · A and B stream in parallel (B fails its first attempt) · A commits · B commits
// · D is skipped · C streams and commits · run_completed.
simulated_run make_run(bool commit_before_emit)
{
    simulated_run r;
    auto add = [&](engine::run_event e) { r.live.push_back(std::move(e)); };
    add(ev::run_started(run_id, "wf", "A"));
    add(ev::phase_started(run_id, "a", 1, "openai", "m"));
    add(ev::text_delta(run_id, "a", "Hel"));
    add(ev::phase_started(run_id, "b", 1, "anthropic", "n"));
    add(ev::text_delta(run_id, "b", "xy"));
    add(ev::text_delta(run_id, "a", "lo, "));
    add(ev::text_delta(run_id, "b", "z"));
    add(ev::attempt_failed(run_id, "b", 1, "anthropic", "n", "overloaded", 529, std::nullopt));
    add(ev::phase_started(run_id, "b", 2, "openai", "m"));
    add(ev::text_delta(run_id, "a", "world"));
    add(ev::phase_completed(run_id, "a", "openai", "m", 10, 3, 0.01, "Hello, world"));
    add(ev::text_delta(run_id, "b", "12"));
    add(ev::text_delta(run_id, "b", "345"));
    add(ev::phase_completed(run_id, "b", "openai", "m", 5, 2, 0.0, "12345"));
    add(ev::phase_skipped(run_id, "d", "needs 'x', which failed"));
    add(ev::phase_started(run_id, "c", 1, "gemini", "g"));
    add(ev::text_delta(run_id, "c", "é"));  // two bytes of UTF-8
    add(ev::text_delta(run_id, "c", "ok"));
    add(ev::phase_completed(run_id, "c", "gemini", "g", 1, 1, 0.0, "éok"));
    add(ev::run_completed(run_id, "succeeded"));

    std::int64_t seq = 0;
    auto store = [&](const engine::run_event& e, std::size_t visible) {
        persistence::event_record rec;
        rec.run_id = run_id;
        rec.seq = ++seq;
        rec.ts = e.ts;
        rec.type = e.type;
        rec.payload = e.fields;
        r.stored.push_back(std::move(rec));
        r.visible_at.push_back(visible);
    };
    // Each phase's block as the executor commits it: its events, text coalesced per stretch,
    // plus the store-only conversation record; visible just before (or as) its closing event
    // is emitted.
    auto block = [&](const std::string& phase, std::size_t closing) {
        const std::size_t visible = commit_before_emit ? closing - 1 : closing;
        for (std::size_t i = 0; i <= closing; ++i)
        {
            const auto& e = r.live[i];
            if (e.field("phase") != phase)
                continue;
            if (e.type == "text_delta" && !r.stored.empty() && r.stored.back().type == "text_delta" &&
                r.stored.back().payload["phase"] == phase && r.visible_at.back() == visible)
                r.stored.back().payload["text"] = r.stored.back().payload["text"].get<std::string>() + e.field("text");
            else
                store(e, visible);
        }
        if (r.live[closing].type == "phase_completed")
        {
            engine::run_event conv{"phase_conversation", run_id, r.live[closing].ts, {{"phase", phase}, {"messages", json::array()}}};
            store(conv, visible);
        }
    };
    store(r.live[0], commit_before_emit ? 0 : 1);
    block("a", 10);
    block("b", 13);
    block("d", 14);
    block("c", 18);
    store(r.live[19], 19);
    return r;
}

struct delivered
{
    json event;
    std::string id;
    std::size_t time;  // live index after which it was delivered
};

// One SSE connection of the simulated server: subscribes at `from` (after live[from-1]; 0 =
// before anything), resumes `last_id`, stops after `max_events` deliveries.
std::vector<delivered> connect(const simulated_run& r, std::size_t from, const std::string& last_id,
                               std::size_t max_events)
{
    boost::asio::io_context ioc;
    runtime::event_hub hub(ioc.get_executor());
    for (std::size_t i = 0; i < from; ++i)
        hub.on_event(r.live[i]);
    event_cursor cursor;
    if (!last_id.empty())
    {
        auto parsed = event_cursor::parse(last_id);
        EXPECT_TRUE(parsed) << last_id;
        cursor = *parsed;
    }
    std::vector<delivered> out;
    std::size_t now = from == 0 ? 0 : from - 1;
    auto deliver = [&](std::optional<json> e) {
        if (e && out.size() < max_events)
            out.push_back({*e, cursor.id(), now});
    };
    auto catch_up = [&](bool have_now) {
        for (std::size_t i = 0; i < r.stored.size(); ++i)
            if (have_now && r.visible_at[i] <= now)
                deliver(cursor.take_stored(r.stored[i]));
        cursor.end_of_stored();
    };
    auto snap = hub.subscribe();
    catch_up(from > 0);
    cursor.restart_live();
    for (const auto& e : snap.tail)
        deliver(cursor.take_live(e));
    for (std::size_t i = from; i < r.live.size() && out.size() < max_events; ++i)
    {
        now = i;
        hub.on_event(r.live[i]);
        bool closing = false;
        bool completed = false;
        for (const auto& e : snap.subscription->take())
        {
            deliver(cursor.take_live(e));
            closing = closing || runtime::closes_block(e.type);
            completed = completed || e.type == "run_completed";
        }
        if (closing)
            catch_up(true);
        if (completed)
            break;
    }
    return out;
}

// Per instance: its non-text events (type and attempt) and its text, stretch by stretch.
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

std::vector<json> live_json(const simulated_run& r)
{
    std::vector<json> v;
    for (const auto& e : r.live)
        v.push_back(e.to_json());
    return v;
}

class event_cursor_resume : public ::testing::TestWithParam<bool>
{
};

TEST_P(event_cursor_resume, every_disconnect_and_reconnect_point_misses_nothing_and_repeats_nothing)
{
    const auto r = make_run(GetParam());
    const auto expected = normalise(live_json(r));
    const auto full = connect(r, 0, "", SIZE_MAX);
    {
        std::vector<json> all;
        for (const auto& d : full)
            all.push_back(d.event);
        ASSERT_EQ(normalise(all), expected) << "an uninterrupted stream";
    }
    int checked = 0;
    for (std::size_t m = 1; m <= full.size(); ++m)
    {
        const auto first = connect(r, 0, "", m);
        ASSERT_EQ(first.size(), m);
        for (std::size_t back = first.back().time + 1; back <= r.live.size(); ++back)
        {
            const auto second = connect(r, back, first.back().id, SIZE_MAX);
            std::vector<json> all;
            for (const auto& d : first)
                all.push_back(d.event);
            for (const auto& d : second)
                all.push_back(d.event);
            ASSERT_EQ(normalise(all), expected)
                << "received " << m << " events (last id " << first.back().id << "), came back after live event " << back;
            ++checked;
        }
    }
    EXPECT_GT(checked, 100);
}

TEST_P(event_cursor_resume, two_disconnects_in_a_row)
{
    const auto r = make_run(GetParam());
    const auto expected = normalise(live_json(r));
    const auto full = connect(r, 0, "", SIZE_MAX);
    for (std::size_t m = 1; m < full.size(); m += 2)
    {
        const auto first = connect(r, 0, "", m);
        const std::size_t back1 = first.back().time + 1;
        const auto second = connect(r, back1, first.back().id, 3);
        std::vector<json> all;
        for (const auto& d : first)
            all.push_back(d.event);
        std::string id = first.back().id;
        std::size_t back2 = back1;
        for (const auto& d : second)
        {
            all.push_back(d.event);
            id = d.id;
            back2 = d.time + 1;
        }
        for (const auto& d : connect(r, std::min(back2 + 1, r.live.size()), id, SIZE_MAX))
            all.push_back(d.event);
        ASSERT_EQ(normalise(all), expected) << "first cut after " << m << " events";
    }
}

INSTANTIATE_TEST_SUITE_P(commit_order, event_cursor_resume, ::testing::Bool());

TEST(event_cursor, ids_round_trip_and_malformed_ids_are_refused)
{
    auto c = event_cursor::parse("41~review:2:1830~tests:done~build@2#3:0:7");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->seq(), 41);
    EXPECT_EQ(c->id(), "41~build@2#3:0:7~review:2:1830~tests:done");
    EXPECT_EQ(event_cursor::parse("0")->id(), "0");
    for (const char* bad : {"", "x", "-1", "12~", "12~a", "12~a:1", "12~a:1:x", "12~a b:1:2", "12~a:1:2~a:done",
                            "1234567890123456789012", "12 "})
        EXPECT_FALSE(event_cursor::parse(bad)) << bad;
    EXPECT_FALSE(event_cursor::parse(std::string(5000, '1')));
}

TEST(event_cursor, a_new_session_voids_positions_of_executions_that_never_committed)
{
    // The client saw phase a stream 3 bytes; the process died before a's checkpoint; a resumed
    // session runs a again and commits "xyz123": the client must get all of it.
    auto seen = event_cursor::parse("1~a:1:3");
    ASSERT_TRUE(seen);
    auto rec = [](std::int64_t seq, std::string type, json payload) {
        persistence::event_record r;
        r.run_id = run_id;
        r.seq = seq;
        r.type = std::move(type);
        r.payload = std::move(payload);
        return r;
    };
    std::vector<json> got;
    for (const auto& r : {rec(2, "run_started", {{"workflow", "wf"}, {"mix", "A"}}),
                          rec(3, "phase_started", {{"phase", "a"}, {"attempt", 1}}),
                          rec(4, "text_delta", {{"phase", "a"}, {"text", "xyz123"}}),
                          rec(5, "phase_completed", {{"phase", "a"}})})
        if (auto out = seen->take_stored(r))
            got.push_back(*out);
    seen->end_of_stored();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[2]["text"], "xyz123");
    EXPECT_EQ(seen->id(), "5");
}

}  // namespace
}  // namespace ep::server
