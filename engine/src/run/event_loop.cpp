#include <ep/engine/run/event_loop.hpp>

namespace ep::engine {

void run_event_loop(boost::asio::io_context& ioc, std::chrono::microseconds linger)
{
    using clock = std::chrono::steady_clock;
    constexpr auto poll_interval = std::chrono::microseconds(2);
    while (!ioc.stopped())
    {
        if (ioc.poll() > 0)
            continue;
        // poll() leaves the reactor marked as interrupted, so a handler posted from another
        // thread meanwhile is queued without waking anything.
        // Between polls it waits a little without touching the scheduler: every poll takes the
        // io_context's mutex, which the thread posting the completion needs too.
        const auto until = clock::now() + linger;
        std::size_t ran = 0;
        while (ran == 0 && !ioc.stopped())
        {
            const auto now = clock::now();
            if (now >= until)
                break;
            const auto next_poll = now + poll_interval;
            while (clock::now() < next_poll)
            {
            }
            ran = ioc.poll();
        }
        if (ran == 0 && !ioc.stopped())
            ioc.run_one();
    }
}

}  // namespace ep::engine
