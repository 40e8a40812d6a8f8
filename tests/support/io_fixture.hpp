#pragma once
// A GoogleTest fixture owning an io_context. run() drives one coroutine to completion (with
// a wall-clock bound so a hung test fails instead of hanging), and TearDown checks that
// nothing was left behind: no pending timer, socket operation or coroutine (MySQL's
// io_context_fixture).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>

namespace ep::test {

class io_fixture : public ::testing::Test
{
protected:
    boost::asio::io_context ctx;

    /// Runs `op` on `ctx` until it completes (at most `limit`) and returns its result.
    /// Exceptions from `op` are rethrown here.
    template <class T>
    T run(boost::asio::awaitable<T> op, std::chrono::milliseconds limit = std::chrono::seconds(20))
    {
        std::optional<T> result;
        std::exception_ptr error;
        bool done = false;
        boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T value) {
            error = e;
            if (!e)
                result.emplace(std::move(value));
            done = true;
        });
        drive(done, limit);
        if (error)
            std::rethrow_exception(error);
        if (!result)
            throw std::runtime_error("io_fixture::run: the operation did not complete in time");
        return std::move(*result);
    }

    void run(boost::asio::awaitable<void> op, std::chrono::milliseconds limit = std::chrono::seconds(20))
    {
        std::exception_ptr error;
        bool done = false;
        boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e) {
            error = e;
            done = true;
        });
        drive(done, limit);
        if (error)
            std::rethrow_exception(error);
        if (!done)
            throw std::runtime_error("io_fixture::run: the operation did not complete in time");
    }

    void TearDown() override
    {
        // Whatever is still queued may run, but nothing may still be waiting.
        ctx.restart();
        ctx.poll();
        EXPECT_TRUE(ctx.stopped()) << "work left on the io_context: a leaked timer, operation or coroutine";
    }

private:
    void drive(const bool& done, std::chrono::milliseconds limit)
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        ctx.restart();
        while (!done && std::chrono::steady_clock::now() < deadline)
        {
            if (ctx.run_one_for(std::chrono::milliseconds(50)) == 0 && ctx.stopped())
                ctx.restart();
        }
    }
};

}  // namespace ep::test
