#include <ep/thread_signals.hpp>

#include <pthread.h>
#include <signal.h>

#include <initializer_list>

namespace ep {

void block_async_signals_on_this_thread() noexcept
{
    sigset_t set;
    sigfillset(&set);
    for (int sync_signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT})
        sigdelset(&set, sync_signal);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void block_stop_signals_on_this_thread() noexcept
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace ep
