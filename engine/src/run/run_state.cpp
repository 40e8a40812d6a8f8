#include "run/run_state.hpp"

namespace ep::engine::detail {

run_state::run_state(asio::any_io_executor ex, const run_request& r, event_sink& s)
    : req(r), spec(*r.spec), graph(*r.graph), sink(s), tracks(r.spec->phases.size()), loops(r.graph->loops().size()),
      done(ex, max_in_flight),
      mark_timer(ex, std::chrono::steady_clock::time_point::max())
{
    for (std::size_t i = 0; i < tracks.size(); ++i)
        tracks[i].self.summary.id = spec.phases[i].id;
}

void run_state::cancel_in_flight(const std::string& why)
{
    if (stop_reason.empty())
        stop_reason = why;
    for_each_running([](const instance_ref&, instance_state& in) {
        if (in.cancel_requested)
            return;
        in.cancel_requested = true;
        in.signal->emit(asio::cancellation_type::terminal);
    });
}

}  // namespace ep::engine::detail
