// Several store objects on one database, and one store shared by threads: readers see only
// whole checkpoints, writers serialise and never reuse an event seq.

#include "conformance.hpp"

#include <thread>
#include <vector>

namespace ep::persistence::conformance {
namespace {

TEST_P(sharing, readers_see_only_whole_checkpoints_while_a_writer_writes)
{
    auto writer = open();
    ASSERT_TRUE(writer);
    const std::string id = writer->create_run(make_run()).value().id;
    constexpr int phases = 60;

    std::atomic<bool> done{false};
    std::atomic<int> reads{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t)
    {
        readers.emplace_back([&] {
            auto o = options();
            o.read_only = true;
            auto r = open_store(backend_->uri(), o);
            if (!r)
            {
                ++bad;
                return;
            }
            while (!done.load())
            {
                // Every phase comes with exactly 3 events: a reader never sees a phase without
                // its events (or the reverse), whatever moment it reads at.
                auto ph = (*r)->get_phases(id);
                auto ev = (*r)->get_events(id);
                auto ph2 = (*r)->get_phases(id);
                if (!ph || !ev || !ph2)
                {
                    ++bad;
                    continue;
                }
                const auto n_events = static_cast<std::size_t>(ev->size());
                if (n_events < ph->size() * 3 || n_events > ph2->size() * 3)
                    ++bad;
                ++reads;
            }
        });
    }
    // Reads must overlap the writes whatever the machine's load: wait for the readers to be
    // reading before the first write and again half-way (bounded, so a broken reader fails).
    const auto wait_for_reads = [&](int at_least) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (reads.load() < at_least && bad.load() == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    wait_for_reads(1);
    for (int i = 0; i < phases; ++i)
    {
        if (i == phases / 2)
            wait_for_reads(reads.load() + 2);
        auto c = writer->commit_phase(make_phase(id, "p" + std::to_string(i)), make_events("p", 3));
        ASSERT_TRUE(c) << c.error().to_string();
    }
    done = true;
    for (auto& t : readers)
        t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(writer->get_phases(id)->size(), static_cast<std::size_t>(phases));
}

TEST_P(sharing, two_writers_serialise_and_keep_seq_unique)
{
    auto first = open();
    ASSERT_TRUE(first);
    const auto id = first->create_run(make_run()).value().id;
    auto second = open();
    ASSERT_TRUE(second);

    constexpr int per_thread = 40;
    auto work = [&](store& s, const std::string& prefix) {
        for (int i = 0; i < per_thread; ++i)
        {
            auto r = s.commit_phase(make_phase(id, prefix + std::to_string(i)), make_events(prefix, 2));
            EXPECT_TRUE(r) << r.error().to_string();
            auto e = s.append_events(id, make_events(prefix, 1));
            EXPECT_TRUE(e) << e.error().to_string();
        }
    };
    std::thread a(work, std::ref(*first), "a");
    std::thread b(work, std::ref(*second), "b");
    a.join();
    b.join();

    auto got = first->get_events(id);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), static_cast<std::size_t>(per_thread * 2 * 3));
    for (std::size_t i = 0; i < got->size(); ++i)
        EXPECT_EQ((*got)[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(first->get_phases(id)->size(), static_cast<std::size_t>(per_thread * 2));
    EXPECT_TRUE(first->integrity_check());
}

TEST_P(sharing, one_store_shared_by_threads)
{
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i)
            {
                auto run = s->create_run(make_run());
                EXPECT_TRUE(run);
                if (run)
                {
                    EXPECT_TRUE(s->commit_phase(make_phase(run->id, "design"), make_events("design", 1)));
                }
                EXPECT_TRUE(s->list_runs(5));
            }
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(s->list_runs(1000)->size(), 60u);
}

}  // namespace
}  // namespace ep::persistence::conformance
