#include <ep/persistence/async_store.hpp>

#include <ep/thread_signals.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iterator>
#include <optional>
#include <thread>

namespace ep::persistence {

namespace asio = boost::asio;

namespace {

template <class R, class F>
R call_guarded(F& fn) noexcept
{
    try
    {
        return fn();
    }
    catch (const std::exception& e)
    {
        return store_error(make_error_code(persistence_errc::io_error),
                           std::string("unexpected failure in the store: ") + e.what());
    }
    catch (...)
    {
        return store_error(make_error_code(persistence_errc::io_error), "unexpected failure in the store");
    }
}

}  // namespace

async_store::async_store(std::shared_ptr<store> backend) : backend_(std::move(backend))
{
    asio::post(writer_, [] { ep::block_async_signals_on_this_thread(); });  // first thing the writer does
}

async_store::~async_store()
{
    // Without stop(), join() lets every queued call finish first.
    writer_.join();
}

template <class R, class F, class Handler, class Work>
struct async_store::call_of final : queued_call
{
    call_of(F f, Handler h, Work w) : fn(std::move(f)), handler(std::move(h)), work(std::move(w)) {}

    void run() noexcept override { value.emplace(call_guarded<R>(fn)); }

    void finish(std::unique_ptr<queued_call> self, const store_error* batch_error) override
    {
        // A call that failed on its own keeps its own error; the others learn the batch's.
        if (batch_error && value->has_value())
            value.emplace(*batch_error);
        auto ex = work.get_executor();
        // The whole call travels back: its arguments were allocated on the caller's thread and
        // are freed there, not here, where every such free would take the lock of the
        // caller's malloc arena (and contend with the caller for it). The guard is released
        // there too: had the writer dropped it, the caller's run() could see "no work".
        asio::post(ex, [self = std::move(self)]() mutable {
            auto& call = static_cast<call_of&>(*self);
            auto handler = std::move(call.handler);
            R result = std::move(*call.value);
            auto guard = std::move(call.work);
            self.reset();
            std::move(handler)(std::move(result));
        });
    }

    F fn;
    Handler handler;
    Work work;  // keeps the caller's executor busy while the call is away
    std::optional<R> value;
};

template <class R, class F>
asio::awaitable<R> async_store::on_writer(F fn)
{
    auto initiation = [this](auto handler, F f) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        using call_type = call_of<R, F, decltype(handler), decltype(work)>;
        enqueue(std::make_unique<call_type>(std::move(f), std::move(handler), std::move(work)));
    };
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(std::move(initiation),
                                                                         asio::use_awaitable, std::move(fn));
}

void async_store::enqueue(std::unique_ptr<queued_call> call)
{
    in_flight_.fetch_add(1, std::memory_order_release);
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(call));
    queued_.store(queue_.size(), std::memory_order_release);
    if (!drain_scheduled_)
    {
        drain_scheduled_ = true;
        asio::post(writer_, [this] { drain(); });
    }
}

bool async_store::linger_for_work() noexcept
{
    const auto until = std::chrono::steady_clock::now() + linger_;
    bool caught = false;
    while (!caught && std::chrono::steady_clock::now() < until)
    {
        caught = queued_.load(std::memory_order_acquire) != 0;
        if (!caught)
            std::this_thread::yield();  // a caller needs this core more than we do
    }
    caught = caught || queued_.load(std::memory_order_acquire) != 0;
    linger_ = caught ? std::min(linger_ * 2, writer_linger) : std::max(linger_ / 2, writer_linger_floor);
    return caught;
}

void async_store::drain()
{
    for (;;)
    {
        std::vector<std::unique_ptr<queued_call>> batch;
        if (queued_.load(std::memory_order_acquire) == 0 && !linger_for_work())
        {
            std::lock_guard lock(queue_mutex_);
            if (queue_.empty())
            {
                drain_scheduled_ = false;
                return;
            }
        }
        {
            std::lock_guard lock(queue_mutex_);
            const auto n = std::min(queue_.size(), max_batch);
            batch.assign(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.begin() + n));
            queue_.erase(queue_.begin(), queue_.begin() + n);
            queued_.store(queue_.size(), std::memory_order_release);
        }
        // One call alone commits by itself: no batch, no extra latency.
        bool batched = false;
        if (batch.size() > 1)
        {
            auto begun = backend_->begin_batch();
            batched = begun && *begun;  // a store that cannot batch (or is busy) runs them one by one
        }
        for (auto& call : batch)
            call->run();
        std::optional<store_error> failed;
        if (batched)
            if (auto r = backend_->end_batch(); !r)
                failed = std::move(r).error();
        for (auto& call : batch)
        {
            auto* c = call.get();
            c->finish(std::move(call), failed ? &*failed : nullptr);
            // After the post: a loop that sees zero here either ran the completion already or
            // finds it queued when it next polls.
            in_flight_.fetch_sub(1, std::memory_order_release);
        }
    }
}

asio::awaitable<result<run_record>> async_store::create_run(run_record run)
{
    return on_writer<result<run_record>>(
        [b = backend_, run = std::move(run)]() mutable { return b->create_run(std::move(run)); });
}

asio::awaitable<result<run_record>> async_store::get_run(std::string run_id)
{
    return on_writer<result<run_record>>([b = backend_, id = std::move(run_id)] { return b->get_run(id); });
}

asio::awaitable<result<std::vector<run_record>>> async_store::list_runs(run_filter filter)
{
    return on_writer<result<std::vector<run_record>>>(
        [b = backend_, f = std::move(filter)] { return b->list_runs(f); });
}

asio::awaitable<result<std::vector<run_record>>> async_store::list_runs(std::size_t limit)
{
    run_filter f;
    f.limit = limit;
    return list_runs(std::move(f));
}

asio::awaitable<result<void>> async_store::set_run_status(std::string run_id, run_status status,
                                                          std::string error)
{
    return on_writer<result<void>>([b = backend_, id = std::move(run_id), status, e = std::move(error)] {
        return b->set_run_status(id, status, e);
    });
}

asio::awaitable<result<void>> async_store::set_run_mix(std::string run_id, std::string mix)
{
    return on_writer<result<void>>(
        [b = backend_, id = std::move(run_id), m = std::move(mix)] { return b->set_run_mix(id, m); });
}

asio::awaitable<result<void>> async_store::set_run_options(std::string run_id, nlohmann::json options)
{
    return on_writer<result<void>>(
        [b = backend_, id = std::move(run_id), o = std::move(options)] { return b->set_run_options(id, o); });
}

asio::awaitable<result<run_record>> async_store::acquire_lease(std::string run_id, std::string owner,
                                                               std::chrono::milliseconds ttl)
{
    return on_writer<result<run_record>>([b = backend_, id = std::move(run_id), o = std::move(owner), ttl] {
        return b->acquire_lease(id, o, ttl);
    });
}

asio::awaitable<result<void>> async_store::renew_lease(std::string run_id, std::string owner)
{
    return on_writer<result<void>>(
        [b = backend_, id = std::move(run_id), o = std::move(owner)] { return b->renew_lease(id, o); });
}

asio::awaitable<result<void>> async_store::release_lease(std::string run_id, std::string owner)
{
    return on_writer<result<void>>(
        [b = backend_, id = std::move(run_id), o = std::move(owner)] { return b->release_lease(id, o); });
}

asio::awaitable<result<void>> async_store::begin_phase(std::string run_id, std::string phase_id,
                                                       int iteration, std::optional<int> item)
{
    return on_writer<result<void>>([b = backend_, id = std::move(run_id), p = std::move(phase_id), iteration,
                                    item] { return b->begin_phase(id, p, iteration, item); });
}

asio::awaitable<result<void>> async_store::record_attempt(attempt_record attempt)
{
    return on_writer<result<void>>([b = backend_, a = std::move(attempt)] { return b->record_attempt(a); });
}

asio::awaitable<result<std::int64_t>> async_store::commit_phase(phase_record phase,
                                                                std::vector<event_record> events,
                                                                std::vector<attempt_record> attempts)
{
    return on_writer<result<std::int64_t>>([b = backend_, p = std::move(phase), e = std::move(events),
                                            a = std::move(attempts)] { return b->commit_phase(p, e, a); });
}

asio::awaitable<result<std::int64_t>> async_store::append_events(std::string run_id,
                                                                 std::vector<event_record> events)
{
    return on_writer<result<std::int64_t>>(
        [b = backend_, id = std::move(run_id), e = std::move(events)] { return b->append_events(id, e); });
}

asio::awaitable<result<std::vector<phase_record>>> async_store::get_phases(std::string run_id)
{
    return on_writer<result<std::vector<phase_record>>>(
        [b = backend_, id = std::move(run_id)] { return b->get_phases(id); });
}

asio::awaitable<result<phase_record>> async_store::get_phase(std::string run_id, std::string phase_id,
                                                             int iteration, std::optional<int> item)
{
    return on_writer<result<phase_record>>(
        [b = backend_, id = std::move(run_id), p = std::move(phase_id), iteration, item] {
        return b->get_phase(id, p, iteration, item);
    });
}

asio::awaitable<result<void>> async_store::copy_phases(std::string from_run, std::string to_run,
                                                       std::vector<std::string> phase_ids)
{
    return on_writer<result<void>>([b = backend_, from = std::move(from_run), to = std::move(to_run),
                                    ids = std::move(phase_ids)] { return b->copy_phases(from, to, ids); });
}

asio::awaitable<result<std::vector<attempt_record>>>
async_store::get_attempts(std::string run_id, std::optional<std::string> phase_id)
{
    return on_writer<result<std::vector<attempt_record>>>(
        [b = backend_, id = std::move(run_id), p = std::move(phase_id)] { return b->get_attempts(id, p); });
}

asio::awaitable<result<std::vector<event_record>>>
async_store::get_events(std::string run_id, std::int64_t after_seq, std::size_t limit)
{
    return on_writer<result<std::vector<event_record>>>(
        [b = backend_, id = std::move(run_id), after_seq, limit] {
        return b->get_events(id, after_seq, limit);
    });
}

asio::awaitable<result<void>> async_store::integrity_check()
{
    return on_writer<result<void>>([b = backend_] { return b->integrity_check(); });
}

}  // namespace ep::persistence
