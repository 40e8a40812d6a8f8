#pragma once
// The provider behind every HTTP protocol: encode, send, then either classify the error
// response or decode the event stream into the channel. Only the codec differs.

#include "protocols/codec.hpp"

#include <ep/providers/http_client.hpp>
#include <ep/providers/provider.hpp>

namespace ep::providers::adapters {

class http_provider final : public provider
{
public:
    /// `endpoint` is the parsed cfg.base_url.
    /// `secrets`: besides cfg.api_key, what must never appear in the returned diagnostics.
    http_provider(asio::any_io_executor ex, provider_config cfg, http_endpoint endpoint, transport_options opts,
                  sansio::http_codec codec, std::vector<std::string> secrets = {});

    const provider_config& config() const noexcept override { return cfg_; }
    asio::awaitable<call_status> stream_chat(const chat_request& req, event_channel& out) override;

private:
    asio::awaitable<call_status> run(const chat_request& req, event_channel& out);

    asio::any_io_executor ex_;
    provider_config cfg_;
    http_endpoint endpoint_;
    transport_options opts_;
    sansio::http_codec codec_;
    std::vector<std::string> secrets_;
};

}  // namespace ep::providers::adapters
