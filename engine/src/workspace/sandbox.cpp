#include "workspace/sandbox.hpp"

#include <unistd.h>

namespace ep::engine::detail {

std::vector<std::string> bwrap_isolation_flags(bool network)
{
    std::vector<std::string> flags = {
        "--die-with-parent",  // the sandbox dies with the bwrap process we signal
        "--new-session",      // no access to a controlling terminal (TIOCSTI)
        "--unshare-pid",      // the PID namespace ends with the command, taking escapees along
        "--unshare-ipc", "--unshare-uts",
    };
    if (!network)
        flags.push_back("--unshare-net");  // only a loopback interface of its own
    if (::geteuid() == 0)
    {
        // Run as root, bwrap keeps every capability, and root with CAP_SYS_ADMIN could
        // remount the read-only root. Unprivileged bwrap has none to drop (and refuses this).
        flags.push_back("--cap-drop");
        flags.push_back("ALL");
    }
    return flags;
}

std::vector<std::string> bwrap_arguments(const sandbox_layout& layout)
{
    auto args = bwrap_isolation_flags(layout.network);
    const std::vector<std::string> mounts = {
        "--ro-bind", "/", "/",                    // the system, read-only
        "--dev", "/dev",                          // null, zero, random, tty…; no host devices
        "--proc", "/proc",                        // of the new PID namespace
        "--tmpfs", "/tmp",                        // private /tmp
        "--bind", layout.workspace.string(), layout.workspace.string(),
        "--bind", layout.scratch.string(), layout.scratch.string(),
        "--chdir", layout.cwd.string(),
    };
    args.insert(args.end(), mounts.begin(), mounts.end());
    return args;
}

}  // namespace ep::engine::detail
