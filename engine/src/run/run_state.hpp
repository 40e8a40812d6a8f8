#pragma once
// The executor's per-run state, shared by the scheduler (executor.cpp) and the phase runner
// (phase_runner.cpp). Strand-confined: everything here is touched on the run's io_context
// thread only.

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
#include <string>
#include <vector>

namespace ep::engine {

enum class phase_state { pending, running, completed, failed, skipped, cancelled };

namespace detail {

struct run_state
{
    run_state(asio::any_io_executor ex, const run_request& r, event_sink& s, std::size_t n)
        : req(r), spec(*r.spec), graph(*r.graph), sink(s), done(ex, n == 0 ? 1 : n), states(n, phase_state::pending),
          summaries(n), cancel_requested(n, false), started_at(n), marked_running(n, false), checkpoint_queued(n, false),
          mark_timer(ex, std::chrono::steady_clock::time_point::max())
    {
        for (std::size_t i = 0; i < n; ++i)
        {
            summaries[i].id = spec.phases[i].id;
            signals.push_back(std::make_unique<asio::cancellation_signal>());
        }
    }

    const run_request& req;
    const workflow_spec& spec;
    const dag& graph;
    event_sink& sink;
    std::string run_id;
    std::string owner;
    std::string mix;

    // Phase runners report here (the phase index) once their checkpoint is committed.
    asio::experimental::channel<void(boost::system::error_code, std::size_t)> done;
    std::size_t in_flight = 0;

    std::vector<phase_state> states;
    std::vector<phase_summary> summaries;
    std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
    std::vector<bool> cancel_requested;

    // The deferred "running" marks (executor_options::running_mark_delay): when each phase
    // started, whether its mark is due or written, whether its checkpoint is already queued
    // (then no mark may follow it), and the timer of the next mark due (at max() while no
    // phase waits for one).
    std::vector<std::chrono::steady_clock::time_point> started_at;
    std::vector<bool> marked_running;
    std::vector<bool> checkpoint_queued;
    asio::steady_timer mark_timer;  // at max() while no mark is pending

    render_context context;  // inputs + results of completed phases
    std::map<std::string, providers::conversation> conversations;  // phase id -> its conversation

    bool interrupted = false;   // run_control asked to stop
    bool lease_lost = false;    // another owner took the run over
    bool fail_fast_fired = false;
    std::string first_error;
    std::string stop_reason;

    /// Cancels every in-flight phase (terminal), remembering why.
    void cancel_in_flight(const std::string& why)
    {
        if (stop_reason.empty())
            stop_reason = why;
        for (std::size_t i = 0; i < states.size(); ++i)
            if (states[i] == phase_state::running && !cancel_requested[i])
            {
                cancel_requested[i] = true;
                signals[i]->emit(asio::cancellation_type::terminal);
            }
    }
};

}  // namespace detail

/// The store-only event that keeps a phase's conversation (system + messages + answer, in the
/// OpenAI message format) so that `context: {continue: X}` works after a resume too. It is
/// committed with the phase's checkpoint and never sent to the event sinks.
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

}  // namespace ep::engine
