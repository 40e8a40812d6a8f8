#pragma once
// Routing policy: personas (personas.yaml), providers (capabilities.yaml) and the selected mix
// (mixes/A.yaml … E.yaml or a path), merged with a workflow's inline `personas:`/`providers:`.
// Provider credentials and availability are resolved from an ep::environment.

#include <ep/common/env.hpp>
#include <ep/engine/diagnostics.hpp>
#include <ep/engine/routing/limits_config.hpp>
#include <ep/providers/config.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

struct workflow_spec;

/// "provider" or "provider/model" (model empty: the provider's default model).
struct provider_preference
{
    std::string provider;
    std::string model;
    source_location where;

    std::string str() const { return model.empty() ? provider : provider + "/" + model; }
};

struct persona_spec
{
    std::string name;
    std::string description;
    std::vector<std::string> requires_capabilities;
    std::vector<provider_preference> provider_preferences;  // best first
    std::string system;                                     // default system prompt
    std::optional<double> temperature;
    std::optional<int> max_tokens;
    source_location where;
};

struct mix_spec
{
    std::string name = "A";
    std::string description;
    /// The only providers the router may use, in fallback order; empty = all providers.
    std::vector<std::string> allowed_providers;
    /// Persona -> preferences replacing the persona's own list.
    std::map<std::string, std::vector<provider_preference>> persona_preferences;
    std::filesystem::path source;
};

struct policy
{
    std::map<std::string, persona_spec> personas;
    std::map<std::string, ep::providers::provider_config> providers;  // api_key/available resolved
    mix_spec mix;
    /// Client-side limits by provider name (capabilities.yaml or inline `limits:`); a provider
    /// without an entry is unlimited.
    std::map<std::string, provider_limit_config> limits;

    const persona_spec* find_persona(std::string_view name) const;
    const ep::providers::provider_config* find_provider(std::string_view name) const;
    bool provider_allowed(std::string_view name) const;
    /// The persona's preferences after the mix: the mix's list if it has one for this persona,
    /// else the persona's own; then providers the mix does not allow are dropped; if nothing is
    /// left, every allowed provider (in the mix's order) with its default model.
    std::vector<provider_preference> effective_preferences(const persona_spec& persona) const;
};

struct policy_options
{
    /// Directory with personas.yaml, capabilities.yaml and mixes/ (see find_workflows_dir).
    std::filesystem::path workflows_dir;
    /// "A" … "E" (case-insensitive) or the path of a mix file.
    std::string config = "A";
    /// Replaces workflows_dir/personas.yaml (`--personas FILE`).
    std::optional<std::filesystem::path> personas_file;
    /// Inline `personas:`/`providers:` of this workflow are merged over the shipped ones.
    const workflow_spec* workflow = nullptr;
};

/// Loads and validates personas, capabilities and the mix; every problem goes to `diag` as
/// FILE:LINE:COL. Errors: workflow_errc::invalid_config (see diag), workflow_errc::io_error.
/// Secrets: api keys are read from `env` into provider_config::api_key and never printed.
boost::system::result<policy> load_policy(const policy_options& options, const ep::environment& env,
                                          diagnostics& diag);

/// Sets api_key / base_url / cli_path / available from the environment (DESIGN.md: a provider
/// with neither a key nor a base-URL override is unavailable; claude_agent is available when
/// its CLI variable is set or the program is on PATH).
void resolve_provider_environment(ep::providers::provider_config& provider, const ep::environment& env);

/// The shipped workflows directory: $EP_HOME/workflows (or $EP_HOME itself), else
/// <exe dir>/../share/ep/workflows, else the source tree. The first that has personas.yaml wins;
/// empty if none has.
std::filesystem::path find_workflows_dir(const ep::environment& env, const std::filesystem::path& exe_path = {});

/// Parses "30s", "1500ms", "5m", "1h", "2.5s"; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace ep::engine
