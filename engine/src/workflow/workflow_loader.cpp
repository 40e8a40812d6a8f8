// workflow_spec from a schema-checked yaml_document.
#include "schema/schema_validator.hpp"
#include "text/suggest.hpp"
#include "workflow/control_flow_reader.hpp"
#include "workflow/request_features.hpp"
#include "yaml/json_access.hpp"
#include "yaml/yaml_document.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/loader.hpp>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>

namespace ep::engine {
namespace {

using detail::json;
using detail::yaml_document;

class workflow_reader
{
public:
    workflow_reader(const yaml_document& doc, diagnostics& diag) : doc_(doc), diag_(diag) {}

    workflow_spec read()
    {
        workflow_spec spec;
        const json& root = doc_.root;
        spec.name = detail::get_string(root, "name").value_or("");
        spec.description = detail::get_string(root, "description").value_or("");
        if (const json* v = detail::field(root, "version"))
            spec.version = v->is_string() ? v->get<std::string>() : v->dump();
        spec.source = doc_.file;
        read_inputs(spec);
        read_defaults(spec);
        read_phases(spec);
        spec.budget = detail::read_budget(doc_, root, "");
        if (auto program = detail::compile_expressions(doc_, expressions_, diag_))
            spec.expressions = std::move(*program);
        spec.has_inline_personas = root.contains("personas");
        spec.has_inline_providers = root.contains("providers");
        return spec;
    }

private:
    void read_inputs(workflow_spec& spec)
    {
        const json* inputs = detail::field(doc_.root, "inputs");
        if (!inputs || !inputs->is_object())
            return;
        for (const auto& name : doc_.keys("/inputs"))
        {
            const std::string pointer = detail::child_pointer("/inputs", name);
            const json& in = (*inputs)[name];
            input_spec input;
            input.name = name;
            input.where = doc_.key_at(pointer);
            auto type = detail::get_string(in, "type").value_or("string");
            input.type = type == "number" ? input_type::number
                         : type == "boolean" ? input_type::boolean
                         : type == "file"    ? input_type::file
                                             : input_type::string;
            input.description = detail::get_string(in, "description").value_or("");
            if (const json* def = detail::field(in, "default"); def && !def->is_null())
            {
                const bool fits = (input.type == input_type::number && def->is_number()) ||
                                  (input.type == input_type::boolean && def->is_boolean()) ||
                                  ((input.type == input_type::string || input.type == input_type::file) &&
                                   def->is_string());
                if (fits)
                    input.default_value = *def;
                else if (def->is_string() || def->is_number() || def->is_boolean())
                    diag_.add(doc_.at(detail::child_pointer(pointer, "default")),
                              "default of input '" + name + "' must be " +
                                  (input.type == input_type::number    ? std::string("a number")
                                   : input.type == input_type::boolean ? std::string("a boolean")
                                                                       : std::string("a string")));
            }
            input.required = detail::get_bool(in, "required").value_or(!input.default_value.has_value());
            spec.inputs.push_back(std::move(input));
        }
    }

    static std::optional<retry_spec> read_retry(const json& obj)
    {
        const json* r = detail::field(obj, "retry");
        if (!r || !r->is_object())
            return std::nullopt;
        retry_spec retry;
        if (auto n = detail::get_int(*r, "max_attempts"))
            retry.max_attempts = static_cast<int>(*n);
        if (const json* b = detail::field(*r, "backoff"); b && b->is_object())
        {
            retry.backoff.initial = detail::get_duration(*b, "initial");
            retry.backoff.max = detail::get_duration(*b, "max");
            retry.backoff.multiplier = detail::get_number(*b, "multiplier");
        }
        return retry;
    }

    void read_defaults(workflow_spec& spec)
    {
        const json* d = detail::field(doc_.root, "defaults");
        if (!d || !d->is_object())
            return;
        auto& out = spec.defaults;
        if (auto p = detail::get_string(*d, "persona"))
            out.persona = located<std::string>{*p, doc_.at("/defaults/persona")};
        out.system = detail::get_string(*d, "system");
        out.model = detail::get_string(*d, "model");
        if (auto n = detail::get_int(*d, "max_tokens"))
            out.max_tokens = static_cast<int>(*n);
        out.temperature = detail::get_number(*d, "temperature");
        out.timeout = detail::get_duration(*d, "timeout");
        out.retry = read_retry(*d);
        const auto features = detail::read_request_features(*d);
        out.reasoning = features.reasoning;
        out.cache = features.cache;
        out.on_content_filter = features.on_content_filter;
    }

    /// A phase's own request features, else those of `defaults:`.
    static void apply_request_features(const json& p, const phase_defaults& defaults, phase_spec& phase)
    {
        const auto own = detail::read_request_features(p);
        phase.reasoning = own.reasoning ? own.reasoning : defaults.reasoning;
        phase.cache = own.cache ? own.cache : defaults.cache;
        phase.on_content_filter = own.on_content_filter ? own.on_content_filter : defaults.on_content_filter;
    }

    void parse_templates(const located<std::string>& text, parsed_template& into)
    {
        std::vector<template_error> errors;
        into = parse_template(text.value, errors);
        for (const auto& e : errors)
            diag_.add(detail::locate_in_value(doc_, text.where, text.value, e.offset), e.message);
    }

    void check_output_schema(const json& schema, const std::string& pointer)
    {
        try
        {
            valijson::Schema compiled;
            valijson::SchemaParser parser;
            valijson::adapters::NlohmannJsonAdapter adapter(schema);
            parser.populateSchema(adapter, compiled);
        }
        catch (const std::exception& e)
        {
            diag_.add(doc_.at(pointer), std::string("output schema is not a valid JSON Schema: ") + e.what());
        }
    }

    void read_phases(workflow_spec& spec)
    {
        const json* phases = detail::field(doc_.root, "phases");
        if (!phases || !phases->is_object())
            return;
        const auto& defaults = spec.defaults;
        for (const auto& id : doc_.keys("/phases"))
        {
            const std::string pointer = detail::child_pointer("/phases", id);
            const json& p = (*phases)[id];
            phase_spec phase;
            phase.id = id;
            phase.where = doc_.key_at(pointer);
            if (!p.is_object())
                continue;  // the schema check reported it; a half phase would only add noise
            phase.description = detail::get_string(p, "description").value_or("");
            if (auto persona = detail::get_string(p, "persona"))
                phase.persona = {*persona, doc_.at(pointer + "/persona")};
            else if (defaults.persona)
                phase.persona = *defaults.persona;
            else
                phase.persona = {"", phase.where};

            if (auto prompt = detail::get_string(p, "prompt"))
            {
                phase.prompt = {*prompt, doc_.at(pointer + "/prompt")};
                parse_templates(phase.prompt, phase.prompt_template);
            }
            if (auto system = detail::get_string(p, "system"))
                phase.system = located<std::string>{*system, doc_.at(pointer + "/system")};
            else if (defaults.system)
                phase.system = located<std::string>{*defaults.system, doc_.at("/defaults/system")};
            if (phase.system)
            {
                phase.system_template.emplace();
                parse_templates(*phase.system, *phase.system_template);
            }

            if (const json* needs = detail::field(p, "needs"); needs && needs->is_array())
                for (std::size_t i = 0; i < needs->size(); ++i)
                    if ((*needs)[i].is_string())
                        phase.needs.push_back({(*needs)[i].get<std::string>(),
                                               doc_.at(detail::child_pointer(pointer + "/needs", i))});

            if (const json* ctx = detail::field(p, "context"); ctx && ctx->is_object())
            {
                if (const json* list = detail::field(*ctx, "phases"); list && list->is_array())
                    for (std::size_t i = 0; i < list->size(); ++i)
                        if ((*list)[i].is_string())
                            phase.context.phases.push_back(
                                {(*list)[i].get<std::string>(),
                                 doc_.at(detail::child_pointer(pointer + "/context/phases", i))});
                if (auto cont = detail::get_string(*ctx, "continue"))
                    phase.context.continue_phase = located<std::string>{*cont, doc_.at(pointer + "/context/continue")};
            }

            if (const json* out = detail::field(p, "output"); out && out->is_object())
            {
                phase.output.where = doc_.at(pointer + "/output");
                phase.output.format =
                    detail::get_string(*out, "format").value_or("text") == "json" ? output_format::json
                                                                                  : output_format::text;
                if (const json* schema = detail::field(*out, "schema"); schema && schema->is_object())
                {
                    if (phase.output.format != output_format::json)
                        diag_.add(doc_.key_at(pointer + "/output/schema"),
                                  "output schema is only used with 'format: json'");
                    else
                    {
                        check_output_schema(*schema, pointer + "/output/schema");
                        phase.output.schema = *schema;
                    }
                }
            }

            phase.model = detail::get_string(p, "model");
            if (phase.model)
                phase.model_where = doc_.at(pointer + "/model");
            else if (defaults.model)
            {
                phase.model = defaults.model;
                phase.model_where = doc_.at("/defaults/model");
            }
            apply_request_features(p, defaults, phase);
            if (auto n = detail::get_int(p, "max_tokens"))
                phase.max_tokens = static_cast<int>(*n);
            else
                phase.max_tokens = defaults.max_tokens;
            phase.temperature = detail::get_number(p, "temperature");
            if (!phase.temperature)
                phase.temperature = defaults.temperature;
            phase.timeout = detail::get_duration(p, "timeout");
            if (!phase.timeout)
                phase.timeout = defaults.timeout;
            phase.retry = defaults.retry;
            if (auto own = read_retry(p))
                phase.retry = phase.retry ? phase.retry->overlaid_with(*own) : *own;
            detail::read_control_flow(doc_, p, pointer, phase, expressions_, diag_);
            spec.phases.push_back(std::move(phase));
        }
    }

    const yaml_document& doc_;
    diagnostics& diag_;
    std::vector<expression_source> expressions_;  // every phase's, compiled together at the end
};

std::optional<workflow_spec> finish(std::shared_ptr<yaml_document> doc, diagnostics& diag)
{
    if (!doc)
        return std::nullopt;
    detail::validate_against_schema(*doc, "workflow", diag);
    if (!doc->root.is_object())
        return std::nullopt;
    workflow_reader reader(*doc, diag);
    workflow_spec spec = reader.read();
    spec.document = std::move(doc);
    return spec;
}

boost::system::result<workflow_spec> strict(std::optional<workflow_spec> spec, std::size_t before,
                                            const diagnostics& diag)
{
    if (!spec || diag.size() != before)
        return make_error_code(workflow_errc::invalid_workflow);
    return std::move(*spec);
}

}  // namespace

std::optional<workflow_spec> load_workflow_file_partial(const std::filesystem::path& path, diagnostics& diag,
                                                        const load_limits& limits)
{
    return finish(detail::parse_yaml_file(path.string(), limits, diag), diag);
}

std::optional<workflow_spec> load_workflow_string_partial(std::string_view text, std::string display_name,
                                                          diagnostics& diag, const load_limits& limits)
{
    return finish(detail::parse_yaml_text(std::string(text), std::move(display_name), limits, diag), diag);
}

boost::system::result<workflow_spec> load_workflow_file(const std::filesystem::path& path, diagnostics& diag,
                                                        const load_limits& limits)
{
    const std::size_t before = diag.size();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
    {
        diag.add({path.string(), 0, 0}, "no such file");
        return make_error_code(workflow_errc::io_error);
    }
    return strict(load_workflow_file_partial(path, diag, limits), before, diag);
}

boost::system::result<workflow_spec> load_workflow_string(std::string_view text, std::string display_name,
                                                          diagnostics& diag, const load_limits& limits)
{
    const std::size_t before = diag.size();
    return strict(load_workflow_string_partial(text, std::move(display_name), diag, limits), before, diag);
}

}  // namespace ep::engine
