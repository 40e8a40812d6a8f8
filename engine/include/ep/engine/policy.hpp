#pragma once
// Routing policy: personas (personas.yaml), providers (capabilities.yaml) and the selected mix
// (mixes/A.yaml … E.yaml or a path), merged with a workflow's inline `personas:`/`providers:`.
// Provider credentials and availability are resolved from an ep::environment.

#include <ep/common/env.hpp>
#include <ep/engine/diagnostics.hpp>
#include <ep/engine/routing/limits_config.hpp>
#include <ep/engine/workflow.hpp>
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
    // Request features (`reasoning: {effort}`, `cache:`, `on_content_filter:`); nullopt: not set.
    // A phase's own value (or its `defaults:`) wins, see resolve_request_features.
    std::optional<reasoning_effort> reasoning;
    std::optional<bool> cache;
    std::optional<content_filter_action> on_content_filter;
    source_location where;
};

/// The request features one phase runs with: the phase's value (its own or `defaults:`), else
/// the persona's. reasoning/cache nullopt: leave the provider's default (send nothing).
struct request_features
{
    std::optional<reasoning_effort> reasoning;
    std::optional<bool> cache;
    content_filter_action on_content_filter = content_filter_action::fail;
};

/// Phase over persona over the defaults above. `persona` may be null (a phase without one).
request_features resolve_request_features(const phase_spec& phase, const persona_spec* persona);

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
    /// Problems that do not stop a run, FILE:LINE:COL where known: a model the catalogue does
    /// not list ("not in the catalogue: default limits, price unknown"), a broken persona or mix
    /// entry the workflow does not use. --validate and --explain print them.
    diagnostics warnings;

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
///
/// Inline `providers:` merge into the shipped ones (fields given replace; models are added or
/// replaced field by field by id). With a workflow, only the personas its phases use (and the
/// mix entries for them) are checked strictly; problems in the others become warnings. A model
/// that is not in the catalogue is accepted everywhere with a warning. A phase's `model:` must
/// name a known provider (PROVIDER/MODEL) or a model some provider lists (bare MODEL).
boost::system::result<policy> load_policy(const policy_options& options, const ep::environment& env,
                                          diagnostics& diag);

/// Sets api_key / base_url / available from the environment (DESIGN.md: a provider with neither
/// a key nor a base-URL override is unavailable). A provider that needs no key (`auth: none`,
/// `key_required` false; or one with no api_key_env) is available as soon as it has a base URL,
/// and never sends a key. claude_agent availability (its CLI) is resolved by load_policy.
void resolve_provider_environment(ep::providers::provider_config& provider, const ep::environment& env,
                                  bool key_required = true);

/// The shipped workflows directory: $EP_HOME/workflows (or $EP_HOME itself), else
/// <exe dir>/../share/ep/workflows, else the source tree. The first that has personas.yaml wins;
/// empty if none has.
std::filesystem::path find_workflows_dir(const ep::environment& env, const std::filesystem::path& exe_path = {});

/// Parses "30s", "1500ms", "5m", "1h", "2.5s"; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace ep::engine
