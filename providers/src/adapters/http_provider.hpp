#pragma once
// The provider behind openai, anthropic and gemini: encode, send, then either classify the
// error response or decode the event stream into the channel. Only the codec differs.

#include "sansio/wire.hpp"

#include <ep/providers/http_client.hpp>
#include <ep/providers/provider.hpp>

#include <functional>
#include <memory>
#include <string>

namespace ep::providers::adapters {

/// The protocol-specific half, all sans-I/O.
struct http_codec
{
    std::string protocol;  // "openai" | "anthropic" | "gemini" (for classify_http_error)
    std::function<sansio::http_request_spec(const provider_config&, std::string_view, const chat_request&)> encode;
    std::function<std::unique_ptr<sansio::stream_decoder>()> make_decoder;
};

http_codec openai_codec();
http_codec anthropic_codec();
http_codec gemini_codec();

class http_provider final : public provider
{
public:
    /// `endpoint` is the parsed cfg.base_url.
    http_provider(asio::any_io_executor ex, provider_config cfg, http_endpoint endpoint, transport_options opts,
                  http_codec codec);

    const provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<call_status> stream_chat(const chat_request& req, event_channel& out) override;

private:
    asio::awaitable<call_status> run(const chat_request& req, event_channel& out);

    asio::any_io_executor ex_;
    provider_config cfg_;
    http_endpoint endpoint_;
    transport_options opts_;
    http_codec codec_;
};

}  // namespace ep::providers::adapters
