#pragma once
// ep-run's terminal view of a run: a sink of the run's event stream on stderr.

#include <ep/engine/run/events.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace ep::cli {

using engine::event_sink;
using engine::run_event;

struct console_options
{
    bool tty = false;    // live view with ANSI redraws; else plain lines
    bool quiet = false;  // only the final summary (and failures)
    std::vector<std::string> phases;  // the workflow's phase ids, in document order
    /// The exact command that resumes this run, with "{run_id}" replaced; shown when it failed.
    std::string resume_command = "ep-run --resume {run_id}";
    /// Minimum time between two redraws of the live view.
    std::chrono::milliseconds redraw_interval{100};
};

/// The human view on `err` (stderr). On a TTY: a live table of the phases (state,
/// provider/model, elapsed, tokens, tokens/s) and the tail of the running phase's streamed
/// text; plain progress lines otherwise. At run_completed both print a final table per phase
/// (provider, time, tokens, cost), the totals, the run id and, when the run did not succeed,
/// the resume command. `err` must outlive the sink.
std::unique_ptr<event_sink> make_console_sink(std::ostream& err, console_options options);

}  // namespace ep::cli
