#pragma once
// The Claude Code CLI in non-interactive mode (`claude -p … --output-format stream-json`;
// Claude Code docs: CLI reference and headless mode): the argv and stdin of one call, the
// decoder of its NDJSON stdout, how its `result` line reports failures, and the options only
// this type has (cli, cli_env, cli_args).

#include "protocols/codec.hpp"
#include "protocols/common/json_util.hpp"

namespace ep::providers::sansio {

/// The argv (without the program) for one call: -p --output-format stream-json --verbose
/// --include-partial-messages, --model, --system-prompt …, then cfg.cli_extra_args; the
/// prompt goes on stdin.
std::vector<std::string> claude_cli_args(const provider_config& cfg, const chat_request& req);
/// The text written to the CLI's stdin: the conversation rendered as one prompt.
std::string claude_cli_prompt(const chat_request& req);

/// Decodes the CLI's stdout (NDJSON, any split). Terminal marker: the `result` line.
/// `result.is_error` → classify_claude_cli_result.
std::unique_ptr<stream_decoder> make_claude_stream_json_decoder();

/// A `result` line that reports a failure (is_error, or an error_* subtype): fills `diag`
/// (subtype or the `assistant` line's error as the type, result text and errors[] as the
/// message, api_error_status as the status) and maps api_error_status 429 → rate_limited,
/// ≥ 500 → overloaded, 401/403 → auth_failed, anything else → cli_failed.
boost::system::error_code classify_claude_cli_result(const json& result, std::string_view assistant_error,
                                                     diagnostics& diag);

/// cli (string), cli_env (a variable name), cli_args (list of strings).
void parse_claude_cli_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors);
std::span<const std::string_view> claude_cli_option_keys() noexcept;

}  // namespace ep::providers::sansio
