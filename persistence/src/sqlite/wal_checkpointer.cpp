#include "sqlite/wal_checkpointer.hpp"

#include <ep/thread_signals.hpp>

namespace ep::persistence::sqlite {

std::unique_ptr<wal_checkpointer> wal_checkpointer::start(const std::filesystem::path& path, sqlite3* writer,
                                                          std::chrono::milliseconds busy_timeout)
{
    sqlite3* own = nullptr;
    // A connection only learns that the file is in WAL mode on its first read; until then a
    // checkpoint on it is a silent no-op.
    if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(own, static_cast<int>(busy_timeout.count())) != SQLITE_OK ||
        sqlite3_exec(own, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) != SQLITE_OK)
    {
        sqlite3_close_v2(own);
        return nullptr;
    }
    return std::unique_ptr<wal_checkpointer>(new wal_checkpointer(own, writer));
}

wal_checkpointer::wal_checkpointer(sqlite3* own, sqlite3* writer) : own_(own), writer_(writer)
{
    // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
    sqlite3_wal_hook(writer_, &wal_checkpointer::on_commit, this);
    thread_ = std::thread([this] {
        ep::block_async_signals_on_this_thread();
        run();
    });
}

wal_checkpointer::~wal_checkpointer()
{
    sqlite3_wal_hook(writer_, nullptr, nullptr);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_close_v2(own_);
}

wal_checkpointer::stats wal_checkpointer::counters() const
{
    std::lock_guard lock(mutex_);
    return stats_;
}

int wal_checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int wal_pages)
{
    // On the writer's thread, right after its commit.
    auto& c = *static_cast<wal_checkpointer*>(self);
    if (wal_pages < checkpoint_after_pages)
    {
        // The WAL started over (or never grew): a finished round leaves nothing to do.
        auto copied = stage::copied;
        c.stage_.compare_exchange_strong(copied, stage::idle);
        return SQLITE_OK;
    }
    const auto now = c.stage_.load();
    if (now == stage::copied || wal_pages >= inline_after_pages)
    {
        // The few frames since the background copy (or, when it cannot progress, all of them).
        int log = 0;
        int copied = 0;
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        const int before = now == stage::copied ? c.round_copied_.load() : 0;
        c.stage_.store(stage::idle);
        std::lock_guard lock(c.mutex_);
        ++c.stats_.inline_rounds;
        c.stats_.inline_frames += copied > before ? copied - before : 0;
        return SQLITE_OK;
    }
    if (now == stage::copying)
        return SQLITE_OK;
    c.stage_.store(stage::copying);
    {
        std::lock_guard lock(c.mutex_);
        c.requested_ = true;
    }
    c.wake_.notify_one();
    return SQLITE_OK;
}

void wal_checkpointer::run()
{
    std::unique_lock lock(mutex_);
    for (;;)
    {
        wake_.wait(lock, [this] { return requested_ || stopping_; });
        if (stopping_)
            return;
        requested_ = false;
        lock.unlock();
        // PASSIVE: copies what no reader still needs and never waits for a lock. Rounds until
        // what the writer added meanwhile is small or stops shrinking (each round fsyncs while
        // the writer keeps writing); the writer's next commit copies the rest.
        int copied = 0;  // frames of this WAL copied so far
        int last_round = 0;
        for (int round = 0; round < max_rounds; ++round)
        {
            int log = 0;
            int now_copied = 0;
            if (sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &now_copied) !=
                    SQLITE_OK ||
                log < 0 || now_copied < copied)  // not in WAL mode, or the WAL started over
                break;
            const int this_round = now_copied - copied;
            copied = now_copied;
            if (round > 0 && (this_round <= handoff_frames || this_round * 4 > last_round * 3))
                break;
            last_round = this_round;
        }
        round_copied_.store(copied);
        stage_.store(stage::copied);
        lock.lock();
        ++stats_.background_rounds;
        stats_.background_frames += copied;
    }
}

}  // namespace ep::persistence::sqlite
