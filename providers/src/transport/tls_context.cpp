// The client TLS context (system bundle or a configured CA file).

#include <ep/providers/tls.hpp>

#include <boost/asio/ssl/context.hpp>

namespace ep::providers {

boost::system::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const std::string& ca_file)
{
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    if (ec)
        return ec;
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (ec)
        return ec;
    if (ca_file.empty())
        ctx->set_default_verify_paths(ec);
    else
        ctx->load_verify_file(ca_file, ec);
    if (ec)
        return ec;
    return ctx;
}

}  // namespace ep::providers
