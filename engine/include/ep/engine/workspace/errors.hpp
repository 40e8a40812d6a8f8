#pragma once
// Errors of the workspace building blocks (STYLE.md §5): three categories, one per concern —
// paths and files (`workspace_errc`), commands (`command_errc`), git (`git_errc`) — and one
// error value that carries the code, the path concerned and a sentence for the user.
//
// Every refusal says what and why, e.g. "`../etc/passwd`: refused: a `..` component leaves the
// workspace". The message never contains a secret (callers pass secret values separately, see
// command.hpp) and is safe to show to a model (tool results) and to store.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace ep::engine {

enum class workspace_errc
{
    invalid_path = 1,    // empty, too long, a control character, a backslash, `~`
    absolute_path,       // starts with `/` (or a drive letter)
    parent_reference,    // a `..` component
    reserved_path,       // a reserved component such as `.git`
    symlink_escape,      // a symbolic link on the path leaves the workspace (or is absolute)
    symlink_loop,        // too many symbolic links while resolving
    not_a_directory,     // a component that must be a directory is not one
    not_regular_file,    // a device, FIFO, socket or directory where a regular file is needed
    not_found,           // the file or directory does not exist
    file_too_large,      // one file over workspace_limits::max_file_bytes
    quota_exceeded,      // a phase's bytes or files over their caps
    unterminated_fence,  // a fenced block with a path never closes (the answer was cut off?)
    unknown_tool,        // a tool name that is not one of the engine's tools
    io_error,            // the operating system refused (permissions, disk full, …)
    other_workspace,     // a resume or fork names another directory than the run's recorded workspace
};

enum class command_errc
{
    invalid_spec = 1,   // argv and shell script both or neither, empty program, bad timeout
    env_refused,        // an `env:` addition names a key variable or carries a key value
    cwd_refused,        // `cwd` is not a directory inside the workspace
    program_not_found,  // the program is not on PATH / not an executable file
    spawn_failed,       // fork/exec or pipe creation failed
    sandbox_unavailable // sandbox_mode::required but bubblewrap cannot run here
};

enum class git_errc
{
    git_missing = 1,     // the `git` program cannot be found
    git_failed,          // a git command exited non-zero (the message quotes its stderr)
    dirty_checkout,      // uncommitted changes in a user checkout and allow_dirty is false
    unknown_commit,      // restore() to a commit that does not exist
};

const boost::system::error_category& workspace_category() noexcept;
const boost::system::error_category& command_category() noexcept;
const boost::system::error_category& git_category() noexcept;

inline boost::system::error_code make_error_code(workspace_errc e) noexcept
{
    return {static_cast<int>(e), workspace_category()};
}
inline boost::system::error_code make_error_code(command_errc e) noexcept
{
    return {static_cast<int>(e), command_category()};
}
inline boost::system::error_code make_error_code(git_errc e) noexcept
{
    return {static_cast<int>(e), git_category()};
}

/// A refused or failed workspace action: the class of failure, the workspace-relative path it
/// concerns (may be empty) and a complete sentence for the user (and the model).
struct workspace_error
{
    boost::system::error_code code;
    std::string path;
    std::string message;

    /// `message`, or the category's text when the message is empty.
    std::string str() const;
};

/// Builds a workspace_error; `message` should say why, the path is quoted by the caller.
workspace_error make_workspace_error(boost::system::error_code code, std::string path, std::string message);

/// `boost::system::result<T, workspace_error>`: `.value()` on an error throws
/// boost::system::system_error with the message.
template <class T>
using ws_result = boost::system::result<T, workspace_error>;

/// Found by ADL when `ws_result<T>::value()` is called on an error.
[[noreturn]] void throw_exception_from_error(const workspace_error& e, const boost::source_location& where);

}  // namespace ep::engine

template <>
struct boost::system::is_error_code_enum<ep::engine::workspace_errc> : std::true_type
{
};
template <>
struct boost::system::is_error_code_enum<ep::engine::command_errc> : std::true_type
{
};
template <>
struct boost::system::is_error_code_enum<ep::engine::git_errc> : std::true_type
{
};
