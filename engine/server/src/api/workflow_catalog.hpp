#pragma once
// The workflows a client may name in `POST /v1/runs {workflow: NAME}` and that
// `GET /v1/workflows` lists: every *.yaml / *.yml of the `--workflows` directories (first) and
// of the shipped workflows directory, by file stem (personas.yaml and capabilities.yaml are
// policy files, not workflows). A name found in two directories is the first one's.

#include <ep/runtime/runtime.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ep::server {

class workflow_catalog
{
public:
    /// `custom`: --workflows DIRs, searched first; `shipped`: the runtime's workflows_dir.
    workflow_catalog(std::vector<std::filesystem::path> custom, std::filesystem::path shipped);

    struct entry
    {
        std::string name;
        std::filesystem::path file;
        std::string source;  // "custom" or "shipped"
    };
    std::vector<entry> list() const;
    std::optional<entry> find(const std::string& name) const;

    /// {name, file_name, source, description, inputs: [...], phases: [{id, persona, needs}]}, or
    /// {name, source, error} when the file does not load.
    nlohmann::json describe(const runtime::runtime& rt, const entry& e) const;

private:
    std::vector<std::pair<std::filesystem::path, std::string>> dirs_;
};

/// Phases with their needs, persona and output format: what a client draws the DAG from.
nlohmann::json graph_json(const engine::workflow_spec& spec);
/// The inputs a form asks for: name, type, required, default, description.
nlohmann::json inputs_json(const engine::workflow_spec& spec);

}  // namespace ep::server
