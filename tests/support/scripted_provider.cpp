#include "scripted_provider.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tuple>

namespace ep::testing {

namespace pe = ep::providers;

namespace {

bool is_cancelled(asio::cancellation_state st) { return st.cancelled() != asio::cancellation_type::none; }

pe::diagnostics with_message(std::string m)
{
    pe::diagnostics d;
    d.message = std::move(m);
    return d;
}

}  // namespace

asio::awaitable<boost::system::error_code> virtual_time_source::sleep_for(duration d)
{
    const bool previous = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    boost::system::error_code ec;
    if (is_cancelled(co_await asio::this_coro::cancellation_state))
        ec = asio::error::operation_aborted;
    else
    {
        sleeps_.push_back(d);
        now_ += d;
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        if (is_cancelled(co_await asio::this_coro::cancellation_state))
            ec = asio::error::operation_aborted;
    }
    co_await asio::this_coro::throw_if_cancelled(previous);
    co_return ec;
}

script_step script_step::reply(std::vector<std::string> chunks, pe::usage u, std::chrono::milliseconds gap)
{
    script_step s;
    for (auto& c : chunks)
        s.events.push_back({gap, pe::text_delta_event{std::move(c)}});
    s.events.push_back({0ms, pe::usage_event{u}});
    return s;
}

script_step script_step::fail(boost::system::error_code ec, pe::diagnostics diag)
{
    script_step s;
    s.end = ending::fail;
    s.ec = ec;
    s.diag = std::move(diag);
    return s;
}

script_step script_step::fail_after(std::vector<std::string> chunks, boost::system::error_code ec,
                                    pe::diagnostics diag)
{
    script_step s = fail(ec, std::move(diag));
    for (auto& c : chunks)
        s.events.push_back({0ms, pe::text_delta_event{std::move(c)}});
    return s;
}

script_step script_step::hang(std::vector<std::string> chunks)
{
    script_step s;
    s.end = ending::hang;
    for (auto& c : chunks)
        s.events.push_back({0ms, pe::text_delta_event{std::move(c)}});
    return s;
}

scripted_provider::scripted_provider(pe::provider_config cfg, std::shared_ptr<engine::time_source> time)
    : cfg_(std::move(cfg)), time_(std::move(time))
{
}

pe::provider_config scripted_provider::make_config(std::string name, std::vector<pe::model_info> models)
{
    pe::provider_config cfg;
    cfg.name = std::move(name);
    cfg.type = "scripted";
    cfg.models = std::move(models);
    cfg.available = true;
    return cfg;
}

scripted_provider& scripted_provider::then(script_step step)
{
    script_.push_back(std::move(step));
    return *this;
}

scripted_provider& scripted_provider::otherwise(script_step step)
{
    otherwise_ = std::move(step);
    return *this;
}

asio::awaitable<pe::call_status> scripted_provider::stream_chat(const pe::chat_request& req, pe::event_channel& out)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    requests_.push_back(req);
    call_times_.push_back(time_->now());
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    struct in_flight_guard
    {
        int& n;
        ~in_flight_guard() { --n; }
    } guard{in_flight_};

    script_step step;
    if (!script_.empty())
    {
        step = std::move(script_.front());
        script_.pop_front();
    }
    else if (otherwise_)
        step = *otherwise_;
    else
        step = script_step::fail(pe::provider_errc::http_status, with_message("scripted_provider: script exhausted"));

    auto aborted = [this]() {
        ++cancelled_calls_;
        return pe::call_status{asio::error::operation_aborted, with_message("cancelled")};
    };

    bool sent_finish = false;
    for (auto& te : step.events)
    {
        if (te.delay.count() > 0)
            if (auto ec = co_await time_->sleep_for(te.delay))
                co_return aborted();
        if (std::holds_alternative<pe::finish_event>(te.event))
            sent_finish = true;
        pe::stream_event ev = te.event;
        std::tuple<boost::system::error_code> sent =
            co_await out.async_send(boost::system::error_code{}, std::move(ev), asio::as_tuple(asio::use_awaitable));
        if (std::get<0>(sent))
            co_return aborted();
    }
    switch (step.end)
    {
    case script_step::ending::fail: co_return pe::call_status{step.ec, step.diag};
    case script_step::ending::hang:
    {
        asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
        co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return aborted();
    }
    case script_step::ending::succeed: break;
    }
    if (!sent_finish && !step.omit_finish)
    {
        // A named event, not a temporary inside the co_await: g++ 12 relocates such temporaries
        // bitwise, which corrupts a short std::string.
        pe::stream_event finish = pe::finish_event{step.reason, "end_turn"};
        std::tuple<boost::system::error_code> sent =
            co_await out.async_send(boost::system::error_code{}, std::move(finish), asio::as_tuple(asio::use_awaitable));
        if (std::get<0>(sent))
            co_return aborted();
    }
    co_return pe::call_status{};
}

}  // namespace ep::testing
