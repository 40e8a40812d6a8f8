#pragma once
// What the providers module reads from configuration itself, so that the engine's policy
// loader stays ignorant of per-type details: the options each provider `type` has, the list
// of known types, and where the Claude Code CLI is.

#include <ep/providers/config.hpp>

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace ep {
class environment;
}

namespace ep::providers {

/// The provider types EP speaks (the rows of the codec table), e.g. "openai", "anthropic",
/// "gemini", "claude_agent".
std::vector<std::string> known_provider_types();

/// Reads the options that belong to `cfg.type` from the provider's configuration node (a
/// `providers.NAME` object of capabilities.yaml or a workflow, as JSON) into `cfg`, setting
/// only the fields present, so the same call reads a full definition and an inline override:
///   openai:        azure_api_version (string), use_max_completion_tokens (bool)
///   claude_agent:  cli (program name or path), cli_env (variable name), cli_args (strings)
/// Appends one message per problem to `errors`, naming the key: an option of another type
/// ("azure_api_version applies to type openai, not gemini"), an unknown `cfg.type` (the
/// message lists the known ones), and a value of the wrong type — unless
/// `values_checked_by_schema` (the caller validated the node against
/// schemas/capabilities.schema.json, which says the same with a location), in which case such
/// a value is only skipped. A bad value is never half-applied. Keys common to every type
/// (type, base_url, api_key_env, timeouts, models, …) are not read here.
void parse_type_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors,
                        bool values_checked_by_schema = false);

/// Where the Claude Code CLI of a claude_agent provider is.
struct cli_location
{
    std::string path;     // empty: not found
    std::string problem;  // empty when `path` is an executable file; otherwise why it is unusable
};

/// The one Claude Code CLI lookup (the policy loader marks the provider available with it;
/// the adapter runs what it returns), in this order:
///   1. the variable cfg.cli_env names (EP_CLAUDE_CLI unless configured) in `env`, which
///      holds the real environment and `.env` (ep::environment::load);
///   2. cfg.cli_path: a path (it contains '/') used as is, or a program name looked up on
///      env's PATH;
///   3. `claude` on env's PATH.
/// A PATH lookup prefers an executable file; a path that is not one is returned with the
/// problem said ("… is not an executable file"), so a configured but broken CLI is reported
/// as such instead of as missing.
cli_location locate_claude_cli(const provider_config& cfg, const ep::environment& env);

}  // namespace ep::providers
