// Extracting and validating a JSON phase output.
#include <ep/engine/run/json_output.hpp>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <exception>

namespace ep::engine {

namespace {

std::string_view trim(std::string_view s)
{
    const auto* ws = " \t\r\n";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

// Models often wrap JSON in a Markdown fence even when asked not to; accept exactly one.
std::string_view strip_fence(std::string_view s)
{
    s = trim(s);
    const auto open = s.find("```");
    if (open == std::string_view::npos)
        return s;
    auto body = s.substr(open + 3);
    const auto nl = body.find('\n');
    if (nl == std::string_view::npos)
        return s;
    body = body.substr(nl + 1);  // drops the info string ("json")
    const auto close = body.rfind("```");
    if (close != std::string_view::npos)
        body = body.substr(0, close);
    return trim(body);
}

std::string path_text(const std::vector<std::string>& context)
{
    std::string out;
    for (const auto& c : context)
        out += c;
    return out.empty() ? "<root>" : out;
}

}  // namespace

json_output_check check_json_output(std::string_view answer, const std::optional<nlohmann::json>& schema)
{
    json_output_check out;
    out.json_text = std::string(strip_fence(answer));
    auto parsed = nlohmann::json::parse(out.json_text, nullptr, false);
    if (parsed.is_discarded())
    {
        out.error = "the answer is not valid JSON";
        return out;
    }
    if (schema && schema->is_object())
    {
        try
        {
            valijson::Schema compiled;
            valijson::SchemaParser parser;
            valijson::adapters::NlohmannJsonAdapter schema_adapter(*schema);
            parser.populateSchema(schema_adapter, compiled);
            valijson::Validator validator;
            valijson::ValidationResults results;
            valijson::adapters::NlohmannJsonAdapter target(parsed);
            if (!validator.validate(compiled, target, &results))
            {
                std::string why;
                valijson::ValidationResults::Error e;
                int shown = 0;
                while (results.popError(e) && shown < 5)
                {
                    if (!why.empty())
                        why += "; ";
                    why += path_text(e.context) + ": " + e.description;
                    ++shown;
                }
                out.error = "the JSON does not match the schema: " + why;
                return out;
            }
        }
        catch (const std::exception& e)
        {
            // The schema was validated when the workflow loaded; this is a last-resort guard.
            out.error = std::string("the output schema could not be applied: ") + e.what();
            return out;
        }
    }
    out.value = std::move(parsed);
    return out;
}

std::string json_repair_prompt(const json_output_check& failed, const std::optional<nlohmann::json>& schema)
{
    std::string p = "Your previous answer could not be used: " + failed.error +
                    ".\nReply again with only the corrected JSON document, no prose and no Markdown fence.";
    if (schema)
        p += "\nIt must satisfy this JSON Schema:\n" + schema->dump(2);
    return p;
}

}  // namespace ep::engine
