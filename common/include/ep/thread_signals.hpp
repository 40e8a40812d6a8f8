#pragma once
// Keeps process signals (Ctrl-C, SIGTERM) away from the library's background threads.

namespace ep {

/// Blocks every asynchronous signal on the calling thread; call it first thing in the body of a
/// thread the library starts (the store's writer, the WAL checkpointer, the emulator's threads).
///
/// Why: the kernel delivers a process-directed signal to any thread that does not block it. While
/// ep-run's signal handler is installed that is harmless, but once it has been removed (the run
/// has ended and ep-run is on its way out) a SIGINT or SIGTERM landing on a background thread
/// would kill the process with the default action instead of the exit code ep-run chose. With
/// the background threads blocked, the thread that owns the handling decides. Synchronous
/// signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) stay unblocked, so a crash still
/// reports as one.
void block_async_signals_on_this_thread() noexcept;

/// Blocks SIGINT and SIGTERM on the calling thread from now on: ep-run calls it when it stops
/// handling them itself but is not yet gone, so a late second Ctrl-C stays pending and the exit
/// code it already chose (130) stands.
void block_stop_signals_on_this_thread() noexcept;

}  // namespace ep
