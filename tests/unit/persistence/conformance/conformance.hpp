#pragma once
// The store conformance suite: behaviour every `store` backend must have, written once and
// instantiated per backend (sqlite_backend.cpp, postgres_backend.cpp). A backend enters the
// suite through `backend`: it opens stores on a database of the test's own and runs plain SQL
// on that database beside the store (to plant failures and break invariants on purpose).

#include "record_builders.hpp"

#include <ep/persistence/open_store.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace ep::persistence::conformance {

using namespace ep::persistence::test;  // make_run, make_phase, make_events, make_attempt
using namespace std::chrono_literals;

/// One test's database on one backend.
class backend
{
public:
    virtual ~backend() = default;
    /// The URI of this test's store (for open_store).
    virtual std::string uri() const = 0;
    /// Runs SQL (the subset both backends speak) on the test's database, through a connection
    /// of its own, outside any store. Fails the test on error.
    virtual void exec(const std::string& sql) = 0;
    /// From now on, inserting an event of `type` fails inside the database (a trigger): the
    /// way to break a checkpoint half-way through its transaction.
    virtual void fail_inserts_of_event_type(const std::string& type) = 0;
};

/// How the suite gets a backend for a test: `make` returns null and says why in `skip_reason`
/// when the backend cannot run here (no server).
struct backend_factory
{
    std::string name;
    std::function<std::unique_ptr<backend>(const std::string& test_id, std::string& skip_reason)> make;
};

/// The fixture of every conformance test (aliased per topic below, so that names read
/// `sqlite/leases.stale_heartbeat_is_taken_over/…`).
class store_test : public ::testing::TestWithParam<backend_factory>
{
protected:
    void SetUp() override;
    void TearDown() override;

    /// Options whose clock the test controls (advance with `clock_ms_ += …`).
    store_options options();
    /// A store on this test's database; fails the test (and returns null) if it cannot open.
    std::unique_ptr<store> open(store_options o);
    std::unique_ptr<store> open() { return open(options()); }
    /// A read-only store on this test's database.
    std::unique_ptr<store> open_read_only();

    std::unique_ptr<backend> backend_;
    std::atomic<std::int64_t> clock_ms_{1'700'000'000'000};
};

/// Prints the backend's name (test listings show it instead of the object's bytes).
inline void PrintTo(const backend_factory& f, std::ostream* os)
{
    *os << f.name;
}

/// The name a parameter gets in test names ("sqlite", "postgres").
std::string backend_name(const ::testing::TestParamInfo<backend_factory>& info);

// One suite name per topic, all the same fixture.
using runs = store_test;
using leases = store_test;
using checkpoints = store_test;
using events = store_test;
using listing = store_test;
using integrity = store_test;
using group_commit = store_test;
using sharing = store_test;
using instances = store_test;
using fork_copy = store_test;

/// async_store tests: an io_context that must be left with no work (MySQL's io_context fixture).
class async_facade : public store_test
{
protected:
    void TearDown() override;
    boost::asio::io_context ctx_;
};

}  // namespace ep::persistence::conformance

/// Instantiates every topic of the suite for one backend factory.
#define EP_STORE_CONFORMANCE_INSTANTIATE(prefix, factory)                                                    \
    INSTANTIATE_TEST_SUITE_P(prefix, runs, ::testing::Values(factory), backend_name);                        \
    INSTANTIATE_TEST_SUITE_P(prefix, leases, ::testing::Values(factory), backend_name);                      \
    INSTANTIATE_TEST_SUITE_P(prefix, checkpoints, ::testing::Values(factory), backend_name);                 \
    INSTANTIATE_TEST_SUITE_P(prefix, events, ::testing::Values(factory), backend_name);                      \
    INSTANTIATE_TEST_SUITE_P(prefix, listing, ::testing::Values(factory), backend_name);                     \
    INSTANTIATE_TEST_SUITE_P(prefix, integrity, ::testing::Values(factory), backend_name);                   \
    INSTANTIATE_TEST_SUITE_P(prefix, group_commit, ::testing::Values(factory), backend_name);                \
    INSTANTIATE_TEST_SUITE_P(prefix, async_facade, ::testing::Values(factory), backend_name);                \
    INSTANTIATE_TEST_SUITE_P(prefix, sharing, ::testing::Values(factory), backend_name);                     \
    INSTANTIATE_TEST_SUITE_P(prefix, instances, ::testing::Values(factory), backend_name);                   \
    INSTANTIATE_TEST_SUITE_P(prefix, fork_copy, ::testing::Values(factory), backend_name)
