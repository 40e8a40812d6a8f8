#pragma once
// Helpers shared by the engine's unit tests.

#include <ep/common/env.hpp>
#include <ep/engine/dag.hpp>
#include <ep/engine/loader.hpp>
#include <ep/engine/policy.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ep::engine::test {

inline std::filesystem::path source_dir() { return EP_SOURCE_DIR; }
inline std::filesystem::path shipped_dir() { return source_dir() / "workflows"; }
inline std::filesystem::path testdata_dir() { return std::filesystem::path(EP_TESTDATA_DIR) / "workflows"; }

/// An environment with no credentials at all (the tests never see the real one).
inline ep::environment empty_env() { return ep::environment::from_map({{"PATH", "/nonexistent"}}); }

/// Everything the CLI's --validate would report for `yaml` (named "wf.yaml"), as
/// "LINE:COL: message" strings in output order (the file name is dropped for brevity).
inline std::vector<std::string> validate_text(const std::string& yaml, const std::string& config = "A")
{
    diagnostics diag;
    auto spec = load_workflow_string_partial(yaml, "wf.yaml", diag);
    if (spec)
    {
        policy_options opts;
        opts.workflows_dir = shipped_dir();
        opts.config = config;
        opts.workflow = &*spec;
        auto env = empty_env();
        auto pol = load_policy(opts, env, diag);
        (void)compile(*spec, pol ? &*pol : nullptr, diag);
    }
    diag.sort();
    std::vector<std::string> out;
    for (const auto& d : diag.items())
    {
        auto s = d.str();
        if (s.rfind("wf.yaml:", 0) == 0)
            s.erase(0, 8);
        out.push_back(s);
    }
    return out;
}

}  // namespace ep::engine::test
