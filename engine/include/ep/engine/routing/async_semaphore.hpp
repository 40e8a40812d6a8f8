#pragma once
// async_semaphore: a counting semaphore whose acquire is an awaitable that can be cancelled
// while it waits. Used for per-provider concurrency limits.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <list>
#include <memory>

namespace ep::engine {

namespace asio = boost::asio;

/// @par Thread safety
/// Strand-confined: every member must be called from one strand (the io_context's thread in
/// `ep-run`). Waiters are woken first-come, first-served.
///
/// @par Lifetime
/// Must outlive every pending acquire() (cancel the waiters before destroying it).
class async_semaphore
{
public:
    explicit async_semaphore(std::size_t permits);
    async_semaphore(const async_semaphore&) = delete;
    async_semaphore& operator=(const async_semaphore&) = delete;

    /// Takes one permit, waiting while none is free.
    ///
    /// @returns empty on success (the caller now holds a permit and must release() it), or
    /// asio::error::operation_aborted on terminal cancellation of the awaiting coroutine (no
    /// permit is held then). Never throws for a cancellation.
    asio::awaitable<boost::system::error_code> acquire();

    bool try_acquire() noexcept;
    /// Returns a permit; hands it straight to the oldest waiter if there is one.
    void release();

    std::size_t available() const noexcept { return available_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }

private:
    struct waiter;
    std::size_t available_;
    std::list<std::shared_ptr<waiter>> waiters_;
};

/// Releases a held permit on destruction (RAII); empty when default-constructed.
class semaphore_permit
{
public:
    semaphore_permit() = default;
    explicit semaphore_permit(async_semaphore& s) noexcept : sem_(&s) {}
    semaphore_permit(semaphore_permit&& o) noexcept : sem_(o.sem_) { o.sem_ = nullptr; }
    semaphore_permit& operator=(semaphore_permit&& o) noexcept
    {
        if (this != &o)
        {
            reset();
            sem_ = o.sem_;
            o.sem_ = nullptr;
        }
        return *this;
    }
    ~semaphore_permit() { reset(); }
    void reset()
    {
        if (sem_)
            sem_->release();
        sem_ = nullptr;
    }

private:
    async_semaphore* sem_ = nullptr;
};

}  // namespace ep::engine
