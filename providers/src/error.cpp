#include <ep/providers/error.hpp>

#include <boost/asio/error.hpp>

namespace ep::providers {

namespace {

class provider_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "ep.provider"; }

    std::string message(int ev) const override
    {
        switch (static_cast<provider_errc>(ev))
        {
        case provider_errc::http_status: return "the provider answered with an error status";
        case provider_errc::auth_failed: return "authentication failed (check the API key)";
        case provider_errc::invalid_request: return "the provider rejected the request as invalid";
        case provider_errc::rate_limited: return "rate limited by the provider";
        case provider_errc::overloaded: return "the provider is overloaded or failing";
        case provider_errc::context_length_exceeded: return "the prompt exceeds the model's context window";
        case provider_errc::content_filter: return "blocked by the provider's content filter";
        case provider_errc::malformed_event: return "malformed event in the response stream";
        case provider_errc::connect_failed: return "could not connect to the provider";
        case provider_errc::connect_timeout: return "connect timeout";
        case provider_errc::first_byte_timeout: return "first-byte timeout";
        case provider_errc::idle_timeout: return "idle timeout (the stream stalled)";
        case provider_errc::total_timeout: return "total timeout";
        case provider_errc::stream_truncated: return "the stream ended before its terminal event";
        case provider_errc::tls_failed: return "TLS handshake or certificate verification failed";
        case provider_errc::cli_missing: return "the Claude Code CLI was not found";
        case provider_errc::cli_failed: return "the Claude Code CLI failed";
        case provider_errc::unavailable: return "provider unavailable (no credentials or base URL)";
        case provider_errc::first_token_timeout: return "first-token timeout (no content from the model)";
        }
        return "unknown provider error";
    }
};

}  // namespace

const boost::system::error_category& provider_category() noexcept
{
    static const provider_category_impl instance;
    return instance;
}

std::string diagnostics::to_string() const
{
    std::string out = message;
    auto append = [&](const std::string& part) {
        if (part.empty())
            return;
        if (!out.empty())
            out += "; ";
        out += part;
    };
    if (http_status)
        append("status " + std::to_string(*http_status));
    if (!provider_type.empty())
        append("type " + provider_type);
    if (!provider_message.empty())
        append("provider said: \"" + provider_message + "\"");
    if (retry_after)
        append("retry after " + std::to_string(retry_after->count()) + " ms");
    return out;
}

bool is_retryable(boost::system::error_code ec) noexcept
{
    if (ec.category() != provider_category())
        return ec != boost::asio::error::operation_aborted;  // resets, EOFs: transient by default
    switch (static_cast<provider_errc>(ec.value()))
    {
    case provider_errc::rate_limited:
    case provider_errc::overloaded:
    case provider_errc::http_status:  // 408/409 and unknown 5xx are classified here by adapters
    case provider_errc::malformed_event:
    case provider_errc::connect_failed:
    case provider_errc::connect_timeout:
    case provider_errc::first_byte_timeout:
    case provider_errc::first_token_timeout:
    case provider_errc::idle_timeout:
    case provider_errc::total_timeout:
    case provider_errc::stream_truncated:
        return true;
    default:
        return false;
    }
}

bool should_fall_back(boost::system::error_code ec) noexcept
{
    if (ec == boost::asio::error::operation_aborted)
        return false;  // a user cancel stops the phase
    if (ec.category() != provider_category())
        return true;
    switch (static_cast<provider_errc>(ec.value()))
    {
    case provider_errc::invalid_request:  // a bug in the request: another provider may still accept it
    case provider_errc::content_filter:   // never retried on the same model, but another may answer
    default:
        return true;
    }
}

}  // namespace ep::providers
