#pragma once
// A throwaway PKI for the emulator's HTTPS mode, made with the OpenSSL C API at start: a CA
// and a server certificate it signs (SAN localhost, 127.0.0.1, ::1), both ECDSA P-256.

#include <string>

namespace ep::emulator::detail {

struct generated_tls
{
    std::string ca_pem;
    std::string cert_pem;
    std::string key_pem;  ///< the server's private key (never leaves the process)
};

/// Throws std::runtime_error with OpenSSL's reason on failure.
generated_tls generate_tls();

}  // namespace ep::emulator::detail
