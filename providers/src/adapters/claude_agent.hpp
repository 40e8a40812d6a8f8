#pragma once
// claude_agent: one call = one run of the Claude Code CLI (`claude -p … --output-format
// stream-json`), prompt on stdin, NDJSON events on stdout.

#include "protocols/codec.hpp"

#include <ep/providers/provider.hpp>

#include <boost/process/v2/process.hpp>

#include <memory>

namespace spdlog { class logger; }
namespace ep { class environment; }

namespace ep::providers::adapters {

class claude_agent_provider final : public provider
{
public:
    /// `env`: where the CLI is looked up (locate_claude_cli); null → ep::environment::load()
    /// at each call (the real environment plus ./.env).
    /// `secrets`: besides cfg.api_key, what must never appear in the returned diagnostics.
    claude_agent_provider(asio::any_io_executor ex, provider_config cfg, sansio::cli_codec codec,
                          std::shared_ptr<const ep::environment> env, std::shared_ptr<spdlog::logger> log,
                          std::vector<std::string> secrets = {});

    const provider_config& config() const noexcept override { return cfg_; }

    /// Errors: provider_errc::cli_missing (no executable), cli_failed (non-zero exit or
    /// `result.is_error`, with the stderr tail in diag.provider_message), stream_truncated (no
    /// `result` line), first_byte_timeout / idle_timeout (the CLI stayed silent), first_token_timeout (it
    /// printed, but no content block came in time), total_timeout,
    /// asio::error::operation_aborted. On cancel or timeout the child is killed (SIGKILL) and
    /// reaped before this returns.
    asio::awaitable<call_status> stream_chat(const chat_request& req, event_channel& out) override;

private:
    struct child_output;

    asio::awaitable<call_status> run(const chat_request& req, event_channel& out);
    /// Turns what the child printed and its exit status into the call's outcome.
    asio::awaitable<call_status> conclude(boost::process::v2::process& proc, child_output& child, event_channel& out);

    asio::any_io_executor ex_;
    provider_config cfg_;
    sansio::cli_codec codec_;
    std::shared_ptr<const ep::environment> env_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<std::string> secrets_;
};

}  // namespace ep::providers::adapters
