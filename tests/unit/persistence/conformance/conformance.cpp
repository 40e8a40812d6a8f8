#include "conformance.hpp"

#include <unistd.h>

namespace ep::persistence::conformance {

namespace {

// Unique per test and process: backends name their database after it.
std::string test_id()
{
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string id = std::string(info->test_suite_name()) + "_" + info->name();
    for (auto& c : id)
        if (std::isalnum(static_cast<unsigned char>(c)) == 0)
            c = '_';
    return id + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

}  // namespace

std::string backend_name(const ::testing::TestParamInfo<backend_factory>& info)
{
    return info.param.name;
}

void store_test::SetUp()
{
    std::string why;
    backend_ = GetParam().make(test_id(), why);
    if (!backend_)
        GTEST_SKIP() << GetParam().name << " is not available: " << why;
}

void store_test::TearDown()
{
    backend_.reset();
}

void async_facade::TearDown()
{
    EXPECT_EQ(ctx_.poll(), 0u) << "work left on the io_context: a leaked coroutine or completion";
    store_test::TearDown();
}

store_options store_test::options()
{
    store_options o;
    o.clock = [this] { return timestamp(std::chrono::milliseconds(clock_ms_.load())); };
    return o;
}

std::unique_ptr<store> store_test::open(store_options o)
{
    auto r = open_store(backend_->uri(), o);
    if (!r)
        ADD_FAILURE() << "open failed: " << r.error().to_string();
    return r ? std::move(*r) : nullptr;
}

std::unique_ptr<store> store_test::open_read_only()
{
    auto o = options();
    o.read_only = true;
    return open(o);
}

}  // namespace ep::persistence::conformance
