#pragma once
// Configuration of one provider endpoint, as loaded from workflows/capabilities.yaml (and
// overridden by EP_* environment variables or inline `providers:` in a workflow).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace ep::providers {

using namespace std::chrono_literals;

/// Named, layered timeouts for one call. Each failure reports which fired (provider_errc).
struct timeout_config
{
    std::chrono::milliseconds connect = 10s;     // TCP connect + TLS handshake (+ proxy CONNECT)
    std::chrono::milliseconds first_byte = 60s;  // request written → response headers
    /// Request written → the model's first content (text, reasoning or a tool call; for the
    /// Claude CLI: process started → first content block). Keep-alives, pings, headers and
    /// metadata do not count, so a provider that answers at once and then thinks (or hangs)
    /// for minutes is caught. Bounds the header wait too when it is the shorter one.
    /// chat_request::first_token_timeout overrides it per call. 0 = no limit.
    std::chrono::milliseconds first_token = 30s;
    std::chrono::milliseconds idle = 30s;        // between any two body reads (pings count)
    std::chrono::milliseconds total = 10min;     // the whole call
};

/// One model a provider serves, with what the router needs to choose it.
struct model_info
{
    std::string id;
    std::int64_t context_window = 128000;
    std::int64_t max_output_tokens = 8192;
    /// USD per million tokens. nullopt: the price is unknown (a model the catalogue does not
    /// list, or one listed without a price) - its cost is unknown, never $0.
    std::optional<double> input_price_per_mtok;
    std::optional<double> output_price_per_mtok;
    std::set<std::string> capabilities;  // adds to the provider's capabilities
    /// Price of input tokens read from the provider's prompt cache; nullopt: the input price.
    std::optional<double> cached_input_price_per_mtok;
    /// False for a model named by a workflow, persona or mix but not listed in the catalogue:
    /// the limits above are then defaults and the price is unknown.
    bool in_catalogue = true;

    bool price_known() const noexcept { return input_price_per_mtok && output_price_per_mtok; }
};

struct provider_config
{
    std::string name;   // "anthropic", "openai", "gemini", "claude_code", "ollama", …
    std::string type;   // the wire protocol, a row of the codec table: openai | anthropic | gemini | claude_agent
    std::string base_url;          // e.g. https://api.openai.com/v1 ; http:// allowed
    std::string api_key_env;       // e.g. EP_OPENAI_API_KEY
    std::string base_url_env;      // e.g. EP_OPENAI_BASE_URL
    std::string api_key;           // resolved secret; never logged, stored or printed
    std::set<std::string> capabilities;  // tools, json_mode, system_prompt, streaming, vision…
    std::vector<model_info> models;      // first is the default model
    timeout_config timeouts;
    std::map<std::string, std::string> extra_headers;
    // TLS
    std::string ca_file;          // empty → system CA bundle
    bool verify_peer = true;      // only tests turn this off, never the CLI
    // Per-type options, read by parse_type_options (options.hpp).
    // openai:
    std::optional<std::string> azure_api_version;  // set → Azure: `api-key` header + ?api-version=
    bool use_max_completion_tokens = false;        // OpenAI proper; compatible servers want max_tokens
    // claude_agent (the lookup order is locate_claude_cli's):
    std::string cli_path;                  // `cli:` a program name or path; the policy stores the found path
    std::string cli_env = "EP_CLAUDE_CLI";  // the variable that names the CLI's path (it wins over cli_path)
    std::vector<std::string> cli_extra_args;

    const model_info* find_model(const std::string& id) const;
    const model_info& default_model() const;
    /// Has credentials or an explicit base-URL override (DESIGN.md: otherwise unavailable).
    bool available = false;
};

}  // namespace ep::providers
