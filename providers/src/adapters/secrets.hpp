#pragma once
// Keeping credentials out of what a provider call reports: a proxy or compatible server may
// echo the key it was sent in an error body, and a CLI may print it on stderr.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>

#include <string>
#include <vector>

namespace ep::providers::adapters {

/// Replaces, in every text field of `diag`, each secret of `cfg` (its API key and the values
/// of its credential-bearing extra headers) and of `more`, and the last 12 characters of each (what a server
/// that masks a key still shows), with "[REDACTED]".
void scrub_secrets(diagnostics& diag, const provider_config& cfg, const std::vector<std::string>& more);

}  // namespace ep::providers::adapters
