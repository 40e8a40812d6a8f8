#pragma once
// claude_agent: one call = one run of the Claude Code CLI (`claude -p … --output-format
// stream-json`), prompt on stdin, NDJSON events on stdout.

#include <ep/providers/provider.hpp>

#include <memory>

namespace spdlog { class logger; }

namespace ep::providers::adapters {

class claude_agent_provider final : public provider
{
public:
    claude_agent_provider(asio::any_io_executor ex, provider_config cfg, std::shared_ptr<spdlog::logger> log);

    const provider_config& config() const noexcept override { return cfg_; }

    /// Errors: provider_errc::cli_missing (no executable), cli_failed (non-zero exit or
    /// `result.is_error`, with the stderr tail in diag.provider_message), stream_truncated (no
    /// `result` line), total_timeout, asio::error::operation_aborted. On cancel or timeout the
    /// child is killed (SIGKILL) and reaped before this returns.
    asio::awaitable<call_status> stream_chat(const chat_request& req, event_channel& out) override;

private:
    asio::awaitable<call_status> run(const chat_request& req, event_channel& out);

    asio::any_io_executor ex_;
    provider_config cfg_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ep::providers::adapters
