// event_hub: live fan-out of a run session's events with bounded subscriber queues, and the
// uncommitted tail a late subscriber needs.
#include <ep/runtime/event_hub.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ep::runtime {

std::string event_instance(std::string_view type, const nlohmann::json& fields)
{
    if (type == "run_started")
        return "^started";
    if (type == "run_completed")
        return "^completed";
    std::string key;
    if (auto it = fields.find("phase"); it != fields.end() && it->is_string())
        key = it->get<std::string>();
    if (auto it = fields.find("iteration"); it != fields.end() && it->is_number_integer())
        key += "@" + std::to_string(it->get<std::int64_t>());
    if (auto it = fields.find("item"); it != fields.end() && it->is_number_integer())
        key += "#" + std::to_string(it->get<std::int64_t>());
    return key;
}

bool closes_block(std::string_view type)
{
    return type == "phase_completed" || type == "phase_failed" || type == "phase_skipped" ||
           type == "run_started" || type == "run_completed";
}

// ---- event_subscription ------------------------------------------------------------------------

event_subscription::event_subscription(asio::any_io_executor ex, std::size_t capacity)
    : capacity_(capacity), timer_(std::move(ex))
{
}

std::vector<engine::run_event> event_subscription::take()
{
    std::vector<engine::run_event> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
}

void event_subscription::push(const engine::run_event& ev)
{
    if (overflowed_ || closed_)
        return;
    if (queue_.size() >= capacity_)
    {
        // Never block the run: this subscriber resynchronises from the store instead.
        overflowed_ = true;
        queue_.clear();
        wake();
        return;
    }
    queue_.push_back(ev);
    if (ev.type == "run_completed")
        closed_ = true;
    wake();
}

void event_subscription::close()
{
    closed_ = true;
    wake();
}

void event_subscription::wake() { timer_.cancel(); }

asio::awaitable<void> event_subscription::wait(std::chrono::steady_clock::duration timeout)
{
    if (ready())
        co_return;
    timer_.expires_after(timeout);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

// ---- event_hub ---------------------------------------------------------------------------------

event_hub::event_hub(asio::any_io_executor ex, std::size_t queue_capacity)
    : ex_(std::move(ex)), capacity_(queue_capacity)
{
}

event_hub::~event_hub() { close(); }

void event_hub::drop_committed(const std::string& instance)
{
    std::erase_if(tail_, [&](const tail_entry& e) { return e.instance == instance; });
}

void event_hub::on_event(const engine::run_event& ev)
{
    if (closed_)
        return;
    const bool run_level = ev.type == "run_started" || ev.type == "run_completed";
    if (!run_level)
    {
        auto instance = event_instance(ev.type, ev.fields);
        if (closes_block(ev.type))
            drop_committed(instance);  // emitted after its checkpoint: the store has the block now
        else if (ev.type == "text_delta" && !tail_.empty() && tail_.back().instance == instance &&
                 tail_.back().event.type == "text_delta")
        {
            // One delta per stretch, as the store keeps it: the same text, far fewer events.
            auto& text = tail_.back().event.fields["text"];
            if (text.is_string())
                text.get_ref<std::string&>() += ev.field("text");
        }
        else
            tail_.push_back(tail_entry{std::move(instance), ev});
    }
    bool expired = false;
    for (auto& w : subs_)
    {
        if (auto s = w.lock())
            s->push(ev);
        else
            expired = true;
    }
    if (expired)
        std::erase_if(subs_, [](const std::weak_ptr<event_subscription>& w) { return w.expired(); });
}

event_hub::snapshot event_hub::subscribe()
{
    snapshot out;
    out.tail.reserve(tail_.size());
    for (const auto& e : tail_)
        out.tail.push_back(e.event);
    if (!closed_)
    {
        out.subscription = std::make_shared<event_subscription>(ex_, capacity_);
        subs_.push_back(out.subscription);
    }
    return out;
}

void event_hub::close()
{
    if (closed_)
        return;
    closed_ = true;
    for (auto& w : subs_)
        if (auto s = w.lock())
            s->close();
    subs_.clear();
    tail_.clear();
}

std::size_t event_hub::subscribers() const
{
    return static_cast<std::size_t>(
        std::count_if(subs_.begin(), subs_.end(), [](const std::weak_ptr<event_subscription>& w) { return !w.expired(); }));
}

}  // namespace ep::runtime
