#include "api/workflow_catalog.hpp"

#include <algorithm>
#include <set>

namespace ep::server {

namespace fs = std::filesystem;

workflow_catalog::workflow_catalog(std::vector<fs::path> custom, fs::path shipped)
{
    for (auto& d : custom)
        dirs_.emplace_back(std::move(d), "custom");
    if (!shipped.empty())
        dirs_.emplace_back(std::move(shipped), "shipped");
}

std::vector<workflow_catalog::entry> workflow_catalog::list() const
{
    std::vector<entry> out;
    std::set<std::string> names;
    for (const auto& [dir, source] : dirs_)
    {
        std::error_code ec;
        std::vector<entry> here;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        {
            const auto& p = it->path();
            const auto ext = p.extension().string();
            const auto stem = p.stem().string();
            if ((ext != ".yaml" && ext != ".yml") || stem == "personas" || stem == "capabilities")
                continue;
            std::error_code fec;
            if (!it->is_regular_file(fec))
                continue;
            here.push_back(entry{stem, p, source});
        }
        std::sort(here.begin(), here.end(), [](const entry& a, const entry& b) { return a.name < b.name; });
        for (auto& e : here)
            if (names.insert(e.name).second)
                out.push_back(std::move(e));
    }
    return out;
}

std::optional<workflow_catalog::entry> workflow_catalog::find(const std::string& name) const
{
    for (auto& e : list())
        if (e.name == name)
            return e;
    return std::nullopt;
}

namespace {

const char* kind_name(engine::phase_kind kind)
{
    switch (kind)
    {
    case engine::phase_kind::approval: return "approval";
    case engine::phase_kind::command: return "command";
    case engine::phase_kind::llm: break;
    }
    return "llm";
}

}  // namespace

nlohmann::json graph_json(const engine::workflow_spec& spec)
{
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& p : spec.phases)
    {
        nlohmann::json needs = nlohmann::json::array();
        for (const auto& n : p.needs)
            needs.push_back(n.value);
        nlohmann::json node = {{"id", p.id},
                               {"kind", kind_name(p.kind)},
                               {"persona", p.persona.value},
                               {"needs", std::move(needs)},
                               {"output", p.output.format == engine::output_format::json ? "json" : "text"}};
        // What the page's DAG draws besides the needs: conditions, loops, fan-outs.
        if (p.when)
            node["when"] = p.when->value;
        if (p.repeat)
            node["repeat"] = {{"from", p.repeat->from.value},
                              {"until", p.repeat->until.value},
                              {"max_iterations", p.repeat->max_iterations}};
        if (p.for_each)
            node["for_each"] = {{"expression", p.for_each->expression.value},
                                {"max_parallel", p.for_each->max_parallel}};
        phases.push_back(std::move(node));
    }
    return phases;
}

nlohmann::json inputs_json(const engine::workflow_spec& spec)
{
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& in : spec.inputs)
    {
        nlohmann::json j = {{"name", in.name},
                            {"type", std::string(engine::to_string(in.type))},
                            {"required", in.required},
                            {"description", in.description}};
        if (in.default_value)
            j["default"] = *in.default_value;
        inputs.push_back(std::move(j));
    }
    return inputs;
}

nlohmann::json workflow_catalog::describe(const runtime::runtime& rt, const entry& e) const
{
    runtime::prepare_options opts;
    opts.bind_inputs = false;
    auto prepared = rt.prepare(runtime::workflow_source{e.file, {}, {}}, opts);
    nlohmann::json j = {{"name", e.name}, {"file_name", e.file.filename().string()}, {"source", e.source}};
    if (!prepared)
    {
        // The file's own problems, without the server's path to it.
        j["error"] = prepared.error().message.substr(prepared.error().message.rfind(": ") + 2);
        j["problems"] = prepared.error().details.diag.size();
        return j;
    }
    j["workflow"] = prepared->spec.name;
    j["description"] = prepared->spec.description;
    j["inputs"] = inputs_json(prepared->spec);
    j["phases"] = graph_json(prepared->spec);
    return j;
}

}  // namespace ep::server
