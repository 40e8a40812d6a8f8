#pragma once
// Building the client TLS context every HTTPS provider call uses.

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <string>

namespace ep::providers {

/// A client TLS context: TLS 1.2 or newer, peer verification on, trusting the CA certificates
/// in `ca_file` (PEM) or, when it is empty, the system CA bundle (`set_default_verify_paths`).
///
/// Host-name verification and SNI are per connection and done by the transport.
///
/// @returns the context, or the OpenSSL error when `ca_file` cannot be loaded (a missing or
/// unreadable file is an error, never a silent fall-back to the system bundle).
boost::system::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const std::string& ca_file = {});

}  // namespace ep::providers
