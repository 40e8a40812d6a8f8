#pragma once
// Listing the models a provider serves, from its own list endpoint:
//   openai (and any compatible server):  GET {base_url}/models
//   anthropic:                           GET {base_url}/v1/models  (x-api-key, anthropic-version;
//                                        paged with limit/after_id)
//   gemini:                              GET {base_url}/models     (x-goog-api-key; paged with
//                                        pageSize/pageToken)
// over the same http_exchange transport (pool, TLS, proxy, timeouts) as chat calls. The
// Claude Code CLI has no list endpoint: provider_errc::invalid_request says so.
//
// For `ep-run --models PROVIDER`, catalogue_rows() marks each listed model against the
// catalogue (capabilities.yaml) so the CLI only prints.

#include <ep/providers/config.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/http_client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ep::providers {

/// One model as the provider lists it.
struct listed_model
{
    std::string id;            // as requests name it (Gemini's "models/" prefix removed)
    std::string display_name;  // empty when the provider gives none
    std::optional<std::int64_t> context_window;     // Anthropic max_input_tokens, Gemini inputTokenLimit
    std::optional<std::int64_t> max_output_tokens;  // Anthropic max_tokens, Gemini outputTokenLimit
};

struct list_models_options
{
    /// TLS context, pool, proxy, logger. Timeouts: connect/first_byte/idle apply to each page;
    /// `total` (default: the provider's total timeout) bounds the whole listing.
    transport_options transport;
    /// Models requested per page where the protocol pages (Anthropic limit, Gemini pageSize).
    int page_size = 1000;
    /// At most this many pages are read (a server that pages forever cannot hang the caller).
    int max_pages = 50;
};

/// Lists the provider's models, in the order the provider gives them.
///
/// Errors: the provider_errc of the failure (auth_failed for a bad key, connect_failed,
/// the named timeouts, malformed_event for a body that is not the protocol's list shape,
/// invalid_request for a provider type without a list endpoint) with `diag` filled; never a
/// credential in `diag`. An unavailable provider (no key, no base URL) is
/// provider_errc::unavailable.
///
/// @par Per-operation cancellation
/// Terminal and partial (the connection is closed); asio::error::operation_aborted.
boost::asio::awaitable<boost::system::result<std::vector<listed_model>>> list_models(
    boost::asio::any_io_executor ex, const provider_config& cfg, list_models_options opts, diagnostics& diag);

/// One row of `ep-run --models PROVIDER`.
struct model_row
{
    std::string id;
    bool in_catalogue = false;
    /// The catalogue's window when it lists the model, else what the provider reports.
    std::optional<std::int64_t> context_window;
    std::optional<std::int64_t> max_output_tokens;
};

/// The listed models marked against the catalogue (`cfg.models`), in the provider's order.
/// Catalogue models the provider did not list are not rows: see catalogue_models_not_listed.
std::vector<model_row> catalogue_rows(const std::vector<listed_model>& listed, const provider_config& cfg);

/// Catalogue ids the provider did not list (retired, renamed, or not on this account).
std::vector<std::string> catalogue_models_not_listed(const std::vector<listed_model>& listed,
                                                     const provider_config& cfg);

}  // namespace ep::providers
