#pragma once
// wal_checkpointer: SQLite's WAL checkpoints on a thread and a connection of their own.
//
// By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that
// commit copies those pages into the database and fsyncs both files, several milliseconds on
// a disk, while a phase (and every phase behind it) waits. Here the writer's connection only
// reports the WAL's length (sqlite3_wal_hook) and this thread copies the pages with a PASSIVE
// checkpoint, which never blocks the writer or readers.
//
// A checkpoint running beside a busy writer never quite catches up, and SQLite starts the
// WAL over only once every frame is copied. So once this thread has copied the bulk, the
// writer's next commit finishes the job inline: a PASSIVE checkpoint of the few frames written
// since, after which the next write restarts the WAL and its size stays bounded as before.
// If checkpoints cannot progress at all (a reader pins an old snapshot), the writer
// checkpoints inline past `inline_after_pages`, as SQLite would.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

namespace ep::persistence::sqlite {

class wal_checkpointer
{
public:
    // Twice SQLite's wal_autocheckpoint: the writer's share of a round (two fsyncs) is paid
    // half as often. Much more, and a writer that never pauses outruns the rounds (the WAL
    // then grows far past this before it starts over).
    static constexpr int checkpoint_after_pages = 2000;
    static constexpr int inline_after_pages = 16 * 1000;  // ~64 MiB of WAL: the writer helps
    static constexpr int handoff_frames = 64;             // left for the writer's commit to finish
    static constexpr int max_rounds = 4;                  // background checkpoints per request

    /// Opens a second connection to `path` (waiting up to `busy_timeout` for locks, as the
    /// writer does) and hooks `writer`'s commits. Null when that connection cannot be opened:
    /// the caller keeps SQLite's own checkpoints then.
    static std::unique_ptr<wal_checkpointer> start(const std::filesystem::path& path, sqlite3* writer,
                                                   std::chrono::milliseconds busy_timeout);

    /// Unhooks the writer, lets a running checkpoint finish, and closes the connection. Call
    /// before closing the writer's connection.
    ~wal_checkpointer();
    wal_checkpointer(const wal_checkpointer&) = delete;
    wal_checkpointer& operator=(const wal_checkpointer&) = delete;

    /// Who copied how many WAL frames into the database (for tests and diagnostics).
    struct stats
    {
        int background_rounds = 0;
        long long background_frames = 0;
        int inline_rounds = 0;
        long long inline_frames = 0;  // beyond what the background round had copied
    };
    stats counters() const;

private:
    wal_checkpointer(sqlite3* own, sqlite3* writer);
    static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
    void run();

    // idle: nothing to do · copying: this thread is checkpointing · copied: the bulk is in the
    // database; the writer's next commit checkpoints the rest.
    enum class stage
    {
        idle,
        copying,
        copied
    };

    sqlite3* own_;     // this thread's connection
    sqlite3* writer_;  // hooked; not owned
    std::atomic<stage> stage_{stage::idle};
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stopping_ = false;
    stats stats_;                       // under mutex_
    std::atomic<int> round_copied_{0};  // frames the last background round copied
    std::thread thread_;                // last: started once everything above is ready
};

}  // namespace ep::persistence::sqlite
