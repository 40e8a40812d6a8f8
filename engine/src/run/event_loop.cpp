#include <ep/engine/run/event_loop.hpp>

namespace ep::engine {

namespace {

// Polls `ioc` until a handler ran, `completion_expected` turns false or `linger` is over.
// Returns how many handlers ran.
std::size_t poll_while_expected(boost::asio::io_context& ioc, const std::function<bool()>& completion_expected,
                                std::chrono::microseconds linger)
{
    using clock = std::chrono::steady_clock;
    // Between polls it waits a little without touching the scheduler: every poll takes the
    // io_context's mutex, which the thread posting the completion needs too.
    constexpr auto poll_interval = std::chrono::microseconds(2);
    const auto until = clock::now() + linger;
    while (!ioc.stopped() && completion_expected())
    {
        const auto now = clock::now();
        if (now >= until)
            return 0;
        const auto next_poll = now + poll_interval;
        while (clock::now() < next_poll)
        {
        }
        if (const auto ran = ioc.poll(); ran > 0)
            return ran;
    }
    // The completion may have been posted just before the flag dropped.
    return ioc.stopped() ? 0 : ioc.poll();
}

}  // namespace

void run_event_loop(boost::asio::io_context& ioc, const std::function<bool()>& completion_expected,
                    std::chrono::microseconds linger)
{
    while (!ioc.stopped())
    {
        // poll() leaves the reactor marked as interrupted, so a handler posted from another
        // thread meanwhile is queued without waking anything.
        if (ioc.poll() > 0)
            continue;
        if (poll_while_expected(ioc, completion_expected, linger) == 0 && !ioc.stopped())
            ioc.run_one();
    }
}

}  // namespace ep::engine
