#pragma once
// The executor's per-run state, shared by the scheduler (scheduler.cpp), the control flow
// (loops.cpp, fan_out.cpp, gates.cpp) and the phase runner (phase_runner.cpp,
// phase_checkpoint.cpp). Strand-confined: everything here is touched on the run's io_context
// thread only.
//
// The unit the executor schedules and the store checkpoints is an *instance*: (phase,
// iteration, item). Each phase has a track holding its current instance; a loop that goes round
// again gives every phase of its body a new iteration; a for_each phase holds one instance per
// item. A resume replays the same scheduling over the stored instances: an instance that is
// completed in the store is loaded instead of run, so conditions, loops and fan-outs take the
// same path they took before and continue where they stopped.

#include <ep/engine/run/executor.hpp>
#include <ep/engine/template.hpp>
#include <ep/providers/convert.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ep::engine {

enum class phase_state { pending, running, waiting, completed, failed, skipped, cancelled };

namespace detail {

/// One instance being run (or loaded) now.
struct instance_state
{
    phase_state state = phase_state::pending;
    phase_summary summary;
    std::chrono::steady_clock::time_point started_at{};
    bool marked_running = false;     // its deferred "running" mark was written (or is due)
    bool checkpoint_queued = false;  // no "running" mark may follow its checkpoint
    bool cancel_requested = false;
    std::unique_ptr<asio::cancellation_signal> signal = std::make_unique<asio::cancellation_signal>();
};

/// A phase's place in the run: its current iteration and instance(s).
struct phase_track
{
    int iteration = 1;                      // of the current instance (counts every pass, 1-based)
    phase_state state = phase_state::pending;  // of the current iteration (a fan-out: the whole)
    instance_state self;                    // the phase's own instance (not used by fan-outs)
    std::optional<render_context::phase_result> previous;  // the loop's previous pass
    // for_each
    bool expanded = false;
    std::vector<nlohmann::json> items;
    std::vector<instance_state> item_states;
    std::size_t items_started = 0;
    std::size_t items_running = 0;
    std::size_t items_finished = 0;
};

/// A `repeat:` loop's progress.
struct loop_state
{
    int iteration = 1;      // 1-based pass of the body now running
    bool finished = false;  // `until` held, or on_exhausted: continue after max_iterations
    bool exhausted = false; // max_iterations passed without `until` and on_exhausted: fail
};

/// Which instance a completion is about.
struct instance_ref
{
    std::size_t phase = 0;
    std::optional<std::size_t> item;
};

/// (phase id, iteration, item): how the store keys an instance.
using instance_key = std::tuple<std::string, int, std::optional<int>>;

struct run_state
{
    run_state(asio::any_io_executor ex, const run_request& r, event_sink& s);

    const run_request& req;
    const workflow_spec& spec;
    const dag& graph;
    event_sink& sink;
    std::string run_id;
    std::string owner;
    std::string mix;

    std::vector<phase_track> tracks;
    std::vector<loop_state> loops;

    // Instance runners report here once their checkpoint is committed (try_send from their
    // completion handler: the capacity bounds the instances in flight).
    static constexpr std::size_t max_in_flight = 1024;
    asio::experimental::channel<void(boost::system::error_code, instance_ref)> done;
    std::size_t in_flight = 0;

    // The deferred "running" marks (executor_options::running_mark_delay): one timer for the run,
    // at max() while no instance waits for one.
    asio::steady_timer mark_timer;

    render_context context;  // inputs + the latest result of each phase
    std::map<std::string, providers::conversation> conversations;  // phase id -> latest conversation
    std::map<instance_key, persistence::phase_record> stored;      // a resume's checkpoints

    // Budget: what the run had spent before this execution (a resume), what it spent since, and
    // the worst cases of calls in flight.
    double spent_cost = 0;
    std::int64_t spent_tokens = 0;
    double reserved_cost = 0;
    std::int64_t reserved_tokens = 0;
    std::optional<double> max_cost_usd;       // the run's budget (or --max-cost)
    std::optional<std::int64_t> max_tokens;

    bool interrupted = false;   // run_control asked to stop
    bool lease_lost = false;    // another owner took the run over
    bool fail_fast_fired = false;
    std::string first_error;
    std::string stop_reason;

    instance_state& instance(const instance_ref& r)
    {
        auto& t = tracks[r.phase];
        return r.item ? t.item_states[*r.item] : t.self;
    }
    const phase_spec& phase(std::size_t i) const { return spec.phases[i]; }

    /// Cancels every in-flight instance (terminal), remembering why.
    void cancel_in_flight(const std::string& why);
    /// Calls `fn(instance_ref, instance_state&)` for every instance that is running.
    template <class F>
    void for_each_running(F&& fn)
    {
        for (std::size_t p = 0; p < tracks.size(); ++p)
        {
            auto& t = tracks[p];
            if (t.self.state == phase_state::running)
                fn(instance_ref{p, std::nullopt}, t.self);
            for (std::size_t i = 0; i < t.item_states.size(); ++i)
                if (t.item_states[i].state == phase_state::running)
                    fn(instance_ref{p, i}, t.item_states[i]);
        }
    }
};

/// The store-only event that keeps a phase instance's conversation (system + messages + answer,
/// in the OpenAI message format) so that `context: {continue: X}` works after a resume too. It is
/// committed with the instance's checkpoint and never sent to the event sinks.
inline constexpr const char* conversation_event_type = "phase_conversation";

inline persistence::event_record to_record(const run_event& ev)
{
    persistence::event_record r;
    r.run_id = ev.run_id;
    r.ts = ev.ts;
    r.type = ev.type;
    r.payload = ev.fields;
    return r;
}

/// A one-event batch. (Not `{to_record(ev)}` at a co_await: g++ 12 rejects initializer lists
/// in the full expression of a co_await, "array used as initializer".)
inline std::vector<persistence::event_record> one_event(const run_event& ev)
{
    std::vector<persistence::event_record> v;
    v.push_back(to_record(ev));
    return v;
}

}  // namespace detail
}  // namespace ep::engine
