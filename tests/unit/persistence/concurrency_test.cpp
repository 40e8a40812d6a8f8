// Several connections on one file (WAL): readers proceed while a writer commits; a second
// writer waits for the lock within the busy timeout; one store is safe to share across threads.

#include "store_fixture.hpp"

#include <chrono>
#include <thread>
#include <vector>

namespace ep::persistence::test {
namespace {

using concurrency = store_fixture;

TEST_F(concurrency, readers_see_only_whole_commits_while_a_writer_writes)
{
    auto writer = open_store();
    ASSERT_TRUE(writer);
    auto run = writer->create_run(make_run());
    ASSERT_TRUE(run);
    const std::string id = run->id;
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
            auto r = sqlite_store::open(db_path_, o);
            if (!r)
            {
                ++bad;
                return;
            }
            while (!done.load())
            {
                // Every completed phase comes with exactly 3 events: a reader never sees a
                // phase without its events (or the reverse), whatever moment it reads at.
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

TEST_F(concurrency, two_writers_on_one_file_serialise_and_keep_seq_unique)
{
    auto first = open_store();
    ASSERT_TRUE(first);
    auto run = first->create_run(make_run());
    ASSERT_TRUE(run);
    auto second = open_store();
    ASSERT_TRUE(second);

    constexpr int per_thread = 40;
    auto work = [&](sqlite_store& s, const std::string& prefix) {
        for (int i = 0; i < per_thread; ++i)
        {
            auto r = s.commit_phase(make_phase(run->id, prefix + std::to_string(i)), make_events(prefix, 2));
            EXPECT_TRUE(r) << r.error().to_string();
        }
    };
    std::thread a(work, std::ref(*first), "a");
    std::thread b(work, std::ref(*second), "b");
    a.join();
    b.join();

    auto events = first->get_events(run->id);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), static_cast<std::size_t>(per_thread * 2 * 2));
    for (std::size_t i = 0; i < events->size(); ++i)
        EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_TRUE(first->integrity_check());
}

TEST_F(concurrency, one_store_shared_by_threads)
{
    auto s = open_store();
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
}  // namespace ep::persistence::test
