#pragma once
// Cross-checks of a loaded policy: preferences name known providers, phase models can be
// resolved, models outside the catalogue are flagged. What the workflow uses is checked
// strictly (errors); the rest only warns, so a broken shipped persona the workflow never
// uses cannot stop it.

#include <ep/engine/policy.hpp>

namespace ep::engine::detail {

/// Errors go to `diag`, warnings to pol.warnings. `workflow` may be null: then every persona
/// counts as used.
void check_policy(policy& pol, const workflow_spec* workflow, diagnostics& diag);

/// "not in the catalogue" warning text for provider/model.
std::string unlisted_model_warning(const ep::providers::provider_config& provider, const std::string& model);

}  // namespace ep::engine::detail
