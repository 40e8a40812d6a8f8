#pragma once
// The engine's own tools (`tools: [read_file, write_file, list_files, run_tests]`): their
// definitions, offered through each provider's native tool calling, and their execution,
// confined to the workspace. The loop that offers them, feeds results back and stops after
// `max_tool_rounds` is the executor's; these are its pieces.
//
// Tool results are what the model reads next:
// - read_file {path}             → the file's text; a file larger than max_result_bytes is cut
//                                   and ends with "[truncated: showing the first N of M bytes]";
// - write_file {path, content}    → {"path", "bytes", "sha256"}; atomic, counted against the
//                                   phase's write_quota, same confinement and caps as `files: true`;
// - list_files {path?}            → {"entries": [{"path", "type", "size"}…], "truncated"};
// - run_tests {}                  → {"exit_code", "passed", "timed_out", "duration_ms", "output"}
//                                   from the workflow's declared test command (output: its tail).
// Bad input never throws and never ends the phase: an unknown tool, arguments that are not a
// JSON object or do not match the tool's schema, a refused path, a missing file — each comes
// back as an error result ("error: …", is_error = true) the model can act on.

#include <ep/engine/workspace/command.hpp>
#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/workspace.hpp>
#include <ep/providers/types.hpp>

#include <boost/asio/awaitable.hpp>

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

inline constexpr std::array<std::string_view, 4> engine_tool_names = {"read_file", "write_file", "list_files",
                                                                      "run_tests"};

bool is_engine_tool(std::string_view name) noexcept;

/// The definitions of `names`, in that order (JSON Schema parameters, as providers::tool_spec
/// expects). unknown_tool for a name that is not an engine tool (a load-time check).
ws_result<std::vector<providers::tool_spec>> engine_tool_specs(const std::vector<std::string>& names);

/// Runs the workflow's declared test command (the executor binds it to the command runner, its
/// output events and the phase's timeout). Errors are reported to the model, not thrown.
using test_command_fn = std::function<asio::awaitable<ws_result<command_result>>()>;

struct tool_limits
{
    std::size_t max_result_bytes = 64 * 1024;  // what one result may carry back to the model
    std::size_t max_list_entries = 500;
};

/// What a tool call may touch. Lives as long as the phase's tool loop.
struct tool_context
{
    explicit tool_context(workspace& w, write_quota* q = nullptr, test_command_fn tests = {}, tool_limits l = {})
        : ws(w), quota(q), run_tests(std::move(tests)), limits(l)
    {
    }

    workspace& ws;
    write_quota* quota;         // the phase's quota (shared with `files: true`); null: none
    test_command_fn run_tests;  // empty: run_tests answers "no test command is declared"
    tool_limits limits;
};

/// Executes one call (any engine tool). Never throws on bad input (see the header comment);
/// the result carries the call's id and name.
///
/// @par Per-operation cancellation
/// As the test command's (terminal: the test process group is killed); the file tools do not
/// suspend.
asio::awaitable<providers::tool_result> execute_tool(providers::tool_call call, tool_context& ctx);

/// The three file tools without a coroutine; run_tests here is an error result ("use
/// execute_tool").
providers::tool_result execute_file_tool(const providers::tool_call& call, tool_context& ctx);

}  // namespace ep::engine
