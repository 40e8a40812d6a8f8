// The threads the library starts (the store's writer, the WAL checkpointer, the emulator's own
// threads) block asynchronous signals, so SIGINT/SIGTERM only ever reach the thread that handles
// them: ep-run's exit code after a Ctrl-C is its own choice, never death by a signal that landed
// on a background thread once the handler was gone. Read from /proc, as the kernel sees it.
#include "io_fixture.hpp"

#include <ep/emulator/emulator.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace ps = ep::persistence;
using namespace std::chrono_literals;

// Thread id -> its blocked-signal mask (SigBlk of /proc/self/task/TID/status), main thread excluded.
std::map<long, std::uint64_t> background_thread_masks()
{
    std::map<long, std::uint64_t> masks;
    for (const auto& task : fs::directory_iterator("/proc/self/task"))
    {
        const long tid = std::stol(task.path().filename().string());
        if (tid == ::getpid())
            continue;
        std::ifstream status(task.path() / "status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("SigBlk:", 0) == 0)
                masks[tid] = std::stoull(line.substr(7), nullptr, 16);
    }
    return masks;
}

bool blocks_stop_signals(std::uint64_t mask)
{
    const auto bit = [](int sig) { return std::uint64_t{1} << (sig - 1); };
    return (mask & bit(SIGINT)) && (mask & bit(SIGTERM));
}

class background_threads : public ep::test::io_fixture
{
};

TEST_F(background_threads, of_the_store_and_the_emulator_block_sigint_and_sigterm)
{
    ASSERT_TRUE(background_thread_masks().empty()) << "the test starts with the main thread alone";
    const auto db = fs::temp_directory_path() / ("ep-threads-" + std::to_string(std::random_device{}()) + ".db");
    {
        auto opened = ps::sqlite_store::open(db);  // starts the WAL checkpointer thread
        ASSERT_TRUE(opened) << opened.error().to_string();
        ps::async_store store(std::shared_ptr<ps::store>(std::move(*opened)));  // the writer thread
        ep::emulator::emulator_config config;
        config.threads = 2;
        ep::emulator::emulator emu(config);  // own-thread mode
        emu.start();

        // One call through the writer, so its first task (blocking signals) has run.
        ps::run_record r;
        r.workflow = "wf";
        r.definition = "name: wf\nphases:\n  a: {persona: architect, prompt: x}\n";
        r.mix = "A";
        auto created = run(store.create_run(r));
        ASSERT_TRUE(created) << created.error().to_string();

        // The other threads block on their own first line; give them a moment to get there.
        std::map<long, std::uint64_t> masks;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        auto all_blocked = [&] {
            masks = background_thread_masks();
            for (const auto& [tid, mask] : masks)
                if (!blocks_stop_signals(mask))
                    return false;
            return true;
        };
        while (!all_blocked() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        EXPECT_GE(masks.size(), 4u) << "writer, checkpointer and two emulator threads";
        for (const auto& [tid, mask] : masks)
        {
            EXPECT_TRUE(blocks_stop_signals(mask)) << "thread " << tid << " takes SIGINT/SIGTERM (SigBlk " << std::hex
                                                   << mask << ")";
        }
    }
    std::error_code ec;
    for (const auto* suffix : {"", "-wal", "-shm"})
        fs::remove(db.string() + suffix, ec);
}

}  // namespace
