#pragma once
// Test doubles for the resilience layer:
//  - virtual_time_source: a time_source whose clock only moves when someone sleeps, so backoff
//    and rate-limit tests run instantly and can assert on exact (virtual) timings;
//  - scripted_provider: an ep::providers::provider whose calls follow a script (events with
//    delays, then success / failure / failure after K deltas / hang until cancelled), and which
//    records every request, call time and the peak number of calls in flight.

#include <ep/engine/routing/time_source.hpp>
#include <ep/providers/provider.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ep::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// now() starts at an arbitrary epoch and advances only through sleep_for (by exactly the
/// requested duration) or advance(). sleep_for yields once to the executor, so concurrent
/// coroutines interleave. Strand-confined (tests run one io_context on one thread).
class virtual_time_source final : public engine::time_source
{
public:
    time_point now() const override { return now_; }
    asio::awaitable<boost::system::error_code> sleep_for(duration d) override;

    void advance(duration d) { now_ += d; }
    /// Every sleep requested, in order.
    const std::vector<duration>& sleeps() const noexcept { return sleeps_; }

private:
    time_point now_ = time_point{} + std::chrono::hours(1000);
    std::vector<duration> sleeps_;
};

/// What one call of a scripted_provider does.
struct script_step
{
    struct timed_event
    {
        std::chrono::milliseconds delay{0};  // waited (on the provider's time source) before sending
        providers::stream_event event;
    };
    enum class ending { succeed, fail, hang };

    std::vector<timed_event> events;  // a finish_event is appended on `succeed` unless present
    ending end = ending::succeed;
    boost::system::error_code ec;     // for `fail`
    providers::diagnostics diag;      // for `fail`
    providers::finish_reason reason = providers::finish_reason::stop;
    /// `succeed` without sending the finish_event: a provider bug the executor must not trust.
    bool omit_finish = false;

    /// Text deltas (one per chunk, `gap` apart), then usage, then success.
    static script_step reply(std::vector<std::string> chunks, providers::usage u = {},
                             std::chrono::milliseconds gap = 0ms);
    /// Fails before any output.
    static script_step fail(boost::system::error_code ec, providers::diagnostics diag = {});
    /// Sends the chunks, then fails: a stream that breaks mid-answer.
    static script_step fail_after(std::vector<std::string> chunks, boost::system::error_code ec,
                                  providers::diagnostics diag = {});
    /// Sends the chunks, then waits on a real timer until the call is cancelled.
    static script_step hang(std::vector<std::string> chunks = {});
};

class scripted_provider final : public providers::provider
{
public:
    scripted_provider(providers::provider_config cfg, std::shared_ptr<engine::time_source> time);
    /// A config named `name` serving `models` (context window, prices) and available.
    static providers::provider_config make_config(std::string name, std::vector<providers::model_info> models = {});

    /// Appends one call's behaviour. Calls beyond the script repeat `otherwise` if set, else
    /// fail with provider_errc::http_status and a message saying the script ran out.
    scripted_provider& then(script_step step);
    scripted_provider& otherwise(script_step step);

    const providers::provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<providers::call_status> stream_chat(const providers::chat_request& req,
                                                        providers::event_channel& out) override;

    int calls() const noexcept { return static_cast<int>(requests_.size()); }
    const std::vector<providers::chat_request>& requests() const noexcept { return requests_; }
    const std::vector<engine::time_source::time_point>& call_times() const noexcept { return call_times_; }
    int in_flight() const noexcept { return in_flight_; }
    int max_in_flight() const noexcept { return max_in_flight_; }
    int cancelled_calls() const noexcept { return cancelled_calls_; }

private:
    providers::provider_config cfg_;
    std::shared_ptr<engine::time_source> time_;
    std::deque<script_step> script_;
    std::optional<script_step> otherwise_;
    std::vector<providers::chat_request> requests_;
    std::vector<engine::time_source::time_point> call_times_;
    int in_flight_ = 0;
    int max_in_flight_ = 0;
    int cancelled_calls_ = 0;
};

}  // namespace ep::testing
