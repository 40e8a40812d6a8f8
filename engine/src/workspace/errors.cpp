#include <ep/engine/workspace/errors.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace ep::engine {
namespace {

class workspace_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.workspace"; }
    std::string message(int ev) const override
    {
        switch (static_cast<workspace_errc>(ev))
        {
        case workspace_errc::invalid_path: return "invalid path";
        case workspace_errc::absolute_path: return "absolute paths are refused";
        case workspace_errc::parent_reference: return "`..` components are refused";
        case workspace_errc::reserved_path: return "reserved path";
        case workspace_errc::symlink_escape: return "a symbolic link leaves the workspace";
        case workspace_errc::symlink_loop: return "too many symbolic links";
        case workspace_errc::not_a_directory: return "not a directory";
        case workspace_errc::not_regular_file: return "not a regular file";
        case workspace_errc::not_found: return "no such file or directory";
        case workspace_errc::file_too_large: return "file too large";
        case workspace_errc::quota_exceeded: return "the phase's write quota is exhausted";
        case workspace_errc::unterminated_fence: return "unterminated code block";
        case workspace_errc::unknown_tool: return "unknown tool";
        case workspace_errc::io_error: return "I/O error";
        case workspace_errc::other_workspace: return "the run's workspace is another directory";
        }
        return "unknown workspace error";
    }
};

class command_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.command"; }
    std::string message(int ev) const override
    {
        switch (static_cast<command_errc>(ev))
        {
        case command_errc::invalid_spec: return "invalid command";
        case command_errc::env_refused: return "environment variable refused";
        case command_errc::cwd_refused: return "working directory refused";
        case command_errc::program_not_found: return "program not found";
        case command_errc::spawn_failed: return "the command could not be started";
        case command_errc::sandbox_unavailable: return "the sandbox (bubblewrap) cannot run here";
        }
        return "unknown command error";
    }
};

class git_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.git"; }
    std::string message(int ev) const override
    {
        switch (static_cast<git_errc>(ev))
        {
        case git_errc::git_missing: return "the git program was not found";
        case git_errc::git_failed: return "a git command failed";
        case git_errc::dirty_checkout: return "the checkout has uncommitted changes";
        case git_errc::unknown_commit: return "unknown commit";
        }
        return "unknown git error";
    }
};

}  // namespace

const boost::system::error_category& workspace_category() noexcept
{
    static const workspace_category_impl instance;
    return instance;
}

const boost::system::error_category& command_category() noexcept
{
    static const command_category_impl instance;
    return instance;
}

const boost::system::error_category& git_category() noexcept
{
    static const git_category_impl instance;
    return instance;
}

std::string workspace_error::str() const
{
    return message.empty() ? code.message() : message;
}

workspace_error make_workspace_error(boost::system::error_code code, std::string path, std::string message)
{
    return workspace_error{code, std::move(path), std::move(message)};
}

void throw_exception_from_error(const workspace_error& e, const boost::source_location& where)
{
    boost::throw_exception(boost::system::system_error(e.code, e.str()), where);
}

}  // namespace ep::engine
