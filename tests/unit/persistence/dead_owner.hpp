#pragma once
// A lease owner string for a process of this host that no longer exists.

#include <ep/persistence/run_id.hpp>

#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace ep::persistence::test {

/// "host:pid" of a child that exited at once and was reaped, so its pid certainly names no
/// live process (until the system reuses it). Empty if fork failed. Call with no other threads
/// running (it forks).
inline std::string dead_local_owner()
{
    const pid_t child = ::fork();
    if (child < 0)
        return {};
    if (child == 0)
        ::_exit(0);
    int status = 0;
    if (::waitpid(child, &status, 0) != child)
        return {};
    const auto me = default_owner();
    return me.substr(0, me.rfind(':')) + ":" + std::to_string(child);
}

}  // namespace ep::persistence::test
