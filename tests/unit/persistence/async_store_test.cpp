// async_store when its backend throws (a bug, std::bad_alloc): the caller gets an error, never
// an exception across threads. (async_store over each backend: conformance/async_facade_test.cpp.)

#include "forwarding_store.hpp"
#include "store_fixture.hpp"

#include <ep/persistence/async_store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace ep::persistence::test {
namespace {

namespace asio = boost::asio;

// A backend that throws: the facade must turn that into an error, not a crash.
class throwing_store final : public forwarding_store
{
public:
    throwing_store() : forwarding_store(nullptr) {}
    result<run_record> get_run(const std::string&) override { throw std::runtime_error("boom"); }
};

class async_store_fixture : public store_fixture
{
protected:
    void TearDown() override
    {
        EXPECT_EQ(ctx_.poll(), 0u);
        store_fixture::TearDown();
    }

    asio::io_context ctx_;
};

TEST_F(async_store_fixture, an_exception_in_the_backend_becomes_an_error)
{
    async_store db(std::make_shared<throwing_store>());
    bool finished = false;
    asio::co_spawn(
        ctx_,
        [&]() -> asio::awaitable<void> {
            auto r = co_await db.get_run("x");
            EXPECT_FALSE(r);
            if (!r)
            {
                EXPECT_EQ(r.error().code, persistence_errc::io_error);
                EXPECT_NE(r.error().message.find("boom"), std::string::npos);
            }
            finished = true;
        },
        asio::detached);
    ctx_.run();
    EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace ep::persistence::test
