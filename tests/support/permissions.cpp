#include "permissions.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace ep::testing {

namespace fs = std::filesystem;

void run_with_permissions_enforced(const fs::path& tree, const std::function<void()>& body)
{
    if (::geteuid() != 0)
    {
        body();
        return;
    }
    constexpr uid_t nobody = 65534;
    constexpr int cannot_drop_privileges = 77;  // the child's exit code when it cannot become nobody
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);  // nothing buffered may be written twice, once by each process
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0)
    {
        int failed = ::lchown(tree.c_str(), nobody, nobody);
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(tree, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            failed |= ::lchown(it->path().c_str(), nobody, nobody);
        if (failed != 0 || ec || ::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0)
        {
            std::fprintf(stderr, "run_with_permissions_enforced: cannot become nobody (errno %d)\n", errno);
            std::_Exit(cannot_drop_privileges);
        }
        body();
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == cannot_drop_privileges)
        GTEST_SKIP() << "running as root where root cannot become nobody (no CAP_SETUID/CAP_CHOWN?), and "
                        "root ignores permission bits";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the part run as user nobody failed (its messages are above); status " << status;
}

}  // namespace ep::testing
