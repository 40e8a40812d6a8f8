#pragma once
// event_cursor: where an SSE client is in a run's event stream, and what of each event it has
// not seen yet. It is the `id:` of every event we send, so `Last-Event-ID` resumes exactly.
//
// Why more than a sequence number: the store's event log (one `seq` per event) receives a
// phase's events only when the phase commits, with its text deltas coalesced per stretch and
// parallel phases' blocks one after the other; the live stream has every delta as it happens,
// interleaved. A client that follows live sees events that have no `seq` yet.
//
// The model: each instance (phase, iteration, item — see event_instance) has one block of
// events per run session, and both forms of a block carry the same *units*: its non-text
// events in order and the bytes of each stretch of text. A position (events, text) counts
// them. The cursor is
//   SEQ                 every stored event up to SEQ has been delivered, plus
//   ~INSTANCE:E:T       of a block beyond SEQ the client saw E non-text events and T text bytes
//   ~INSTANCE:done      … or the whole block (its closing event),
// e.g. "41~review:2:1830~tests:done". Any source event (stored or live) covers a range of
// units; we send only the part beyond the client's position — for a text delta possibly a
// suffix of its text — and advance it. SEQ advances over whole stored blocks (a commit is
// atomic, so a fetch that reaches the end of the log ends on a block boundary); positions of
// blocks it passes are dropped. A stored run_started the client has not seen starts a new
// session: positions left from the previous one belonged to executions that never committed
// (the process died) and are void.
//
// Sans-I/O: no store, no socket; tested by splitting streams at every point.

#include <ep/engine/run/events.hpp>
#include <ep/persistence/records.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ep::server {

struct seen_position
{
    std::int64_t events = 0;  // non-text events of the block seen
    std::int64_t text = 0;    // bytes of the current text stretch seen
    bool done = false;        // the closing event was seen

    bool empty() const noexcept { return events == 0 && text == 0 && !done; }
};

class event_cursor
{
public:
    /// From a Last-Event-ID; nullopt when malformed (the caller answers 400).
    static std::optional<event_cursor> parse(std::string_view id);

    /// What to send as `id:` now.
    std::string id() const;
    /// Every stored event up to here was delivered.
    std::int64_t seq() const noexcept { return seq_; }
    /// Fetch stored events after this seq next (it may be inside a block being delivered).
    std::int64_t fetch_after() const noexcept { return last_seq_; }

    /// A stored event, in seq order: the JSON event to send, or nullopt when the client has
    /// seen all of it (or it is store-only, like a phase's conversation record).
    std::optional<nlohmann::json> take_stored(const persistence::event_record& e);
    /// The fetch reached the end of the stored log: the block in progress is complete.
    void end_of_stored();

    /// A live event: the JSON to send, or nullopt when already seen.
    std::optional<nlohmann::json> take_live(const engine::run_event& ev);
    /// A fresh live source (a new hub snapshot replays each uncommitted block from its start).
    void restart_live() { live_src_.clear(); }

private:
    std::optional<nlohmann::json> take(const std::string& instance, std::string_view type, nlohmann::json event,
                                       seen_position& src);
    void close_block();

    std::int64_t seq_ = 0;
    std::map<std::string, seen_position> seen_;  // part of id()
    // Per connection only:
    std::int64_t last_seq_ = 0;
    std::optional<std::string> open_block_;  // the stored block being consumed
    std::map<std::string, seen_position> stored_src_;
    std::map<std::string, seen_position> live_src_;
    std::set<std::string> committed_;  // instances whose stored block was consumed
};

}  // namespace ep::server
