#include "schema/schema_validator.hpp"

#include "text/suggest.hpp"

#include <ep/engine/loader.hpp>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>

namespace ep::engine::detail {
namespace {

using json = nlohmann::json;

std::string file_of(std::string_view uri)
{
    auto hash = uri.find('#');
    std::string file(uri.substr(0, hash));
    if (auto slash = file.rfind('/'); slash != std::string::npos)
        file.erase(0, slash + 1);
    return file;
}

// Parsed schema documents by file name ("workflow.schema.json"); parsed once, never freed.
const json* schema_document(const std::string& file)
{
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<json>> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(file); it != cache.end())
        return it->second.get();
    std::string name = file;
    if (auto dot = name.find(".schema.json"); dot != std::string::npos)
        name.erase(dot);
    auto text = embedded_schema(name);
    if (text.empty())
        return nullptr;
    auto doc = std::make_unique<json>(json::parse(text));
    return cache.emplace(file, std::move(doc)).first->second.get();
}

const valijson::Schema& compiled_schema(const std::string& file)
{
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<valijson::Schema>> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(file); it != cache.end())
        return *it->second;
    auto schema = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(*schema_document(file));
    auto fetch = [](const std::string& uri) -> const json* { return schema_document(file_of(uri)); };
    auto free_doc = [](const json*) {};  // documents live in the cache
    parser.populateSchema(adapter, *schema, fetch, free_doc);
    return *cache.emplace(file, std::move(schema)).first->second;
}

// A schema node together with the file it lives in (so relative $refs resolve).
struct schema_ref
{
    const json* node = nullptr;
    std::string file;
};

schema_ref resolve(schema_ref s)
{
    for (int guard = 0; guard < 16 && s.node && s.node->is_object() && s.node->contains("$ref"); ++guard)
    {
        std::string ref = (*s.node)["$ref"].get<std::string>();
        auto hash = ref.find('#');
        std::string file = hash == 0 ? s.file : file_of(ref);
        const json* doc = schema_document(file);
        if (!doc)
            return {};
        std::string pointer = hash == std::string::npos ? "" : ref.substr(hash + 1);
        try
        {
            s = {&doc->at(json::json_pointer(pointer)), file};
        }
        catch (const std::exception&)
        {
            return {};
        }
    }
    return s;
}

// The subschema that applies to the instance at `tokens` (following properties,
// additionalProperties and items); node is null if there is none.
schema_ref subschema_at(const json& instance, schema_ref s, const std::vector<std::string>& tokens)
{
    const json* inst = &instance;
    for (const auto& token : tokens)
    {
        s = resolve(s);
        if (!s.node || !s.node->is_object())
            return {};
        if (inst->is_object())
        {
            if (s.node->contains("properties") && (*s.node)["properties"].contains(token))
                s.node = &(*s.node)["properties"][token];
            else if (s.node->contains("additionalProperties") && (*s.node)["additionalProperties"].is_object())
                s.node = &(*s.node)["additionalProperties"];
            else
                return {};
            if (!inst->contains(token))
                return {};
            inst = &(*inst)[token];
        }
        else if (inst->is_array())
        {
            if (!s.node->contains("items"))
                return {};
            s.node = &(*s.node)["items"];
            if (token.empty() || token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos)
                return {};
            std::size_t index = std::stoul(token);
            if (index >= inst->size())
                return {};
            inst = &(*inst)[index];
        }
        else
            return {};
    }
    return resolve(s);
}

const json* instance_at(const json& root, const std::vector<std::string>& tokens)
{
    const json* inst = &root;
    for (const auto& token : tokens)
    {
        if (inst->is_object() && inst->contains(token))
            inst = &(*inst)[token];
        else if (inst->is_array() && !token.empty() && token.size() < 10 &&
                 token.find_first_not_of("0123456789") == std::string::npos && std::stoul(token) < inst->size())
            inst = &(*inst)[std::stoul(token)];
        else
            return nullptr;
    }
    return inst;
}

std::string type_name(const json& v)
{
    switch (v.type())
    {
    case json::value_t::null: return "nothing (null)";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "a mapping";
    default: return "a value";
    }
}

std::string schema_type_name(const std::string& t)
{
    if (t == "string") return "a string";
    if (t == "integer") return "an integer";
    if (t == "number") return "a number";
    if (t == "boolean") return "a boolean";
    if (t == "array") return "a list";
    if (t == "object") return "a mapping";
    if (t == "null") return "null";
    return t;
}

std::string scalar_text(const json& v)
{
    return v.is_string() ? v.get<std::string>() : v.dump();
}

// How a value is named in messages: "'max_tokens'", "'needs[0]'", "the file".
std::string field_name(const json& root, const std::vector<std::string>& tokens)
{
    if (tokens.empty())
        return "the file";
    std::string name;
    const json* inst = &root;
    for (const auto& token : tokens)
    {
        if (inst && inst->is_array())
            name += "[" + token + "]";
        else
            name = token;
        inst = inst ? instance_at(*inst, {token}) : nullptr;
    }
    return "'" + name + "'";
}

// Valijson's context ("<root>", "[phases]", "[0]") to a JSON pointer.
std::string context_pointer(const std::vector<std::string>& context)
{
    std::string pointer;
    for (std::size_t i = 1; i < context.size(); ++i)
    {
        const auto& c = context[i];
        pointer = child_pointer(pointer, c.size() >= 2 ? std::string_view(c).substr(1, c.size() - 2) : c);
    }
    return pointer;
}

std::string number_text(const json& v)
{
    if (v.is_number_float())
    {
        double d = v.get<double>();
        if (d == static_cast<double>(static_cast<long long>(d)))
            return std::to_string(static_cast<long long>(d));
    }
    return v.dump();
}

// Compiling a std::regex is slow; a 1,000-phase workflow checks the same pattern 1,000 times.
const std::regex& cached_regex(const std::string& pattern)
{
    static std::mutex mutex;
    static std::map<std::string, std::regex> cache;
    std::lock_guard lock(mutex);
    auto it = cache.find(pattern);
    if (it == cache.end())
        it = cache.emplace(pattern, std::regex(pattern)).first;
    return it->second;
}

class checker
{
public:
    checker(const yaml_document& doc, diagnostics& diag) : doc_(doc), diag_(diag) {}

    // Unknown keys and propertyNames, by walking the instance with the schema.
    void walk(const json& inst, schema_ref s, const std::string& pointer)
    {
        s = resolve(s);
        if (!s.node || !s.node->is_object())
            return;
        const json& schema = *s.node;
        if (inst.is_object())
        {
            const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
            const bool closed = schema.contains("additionalProperties") && schema["additionalProperties"].is_boolean() &&
                                !schema["additionalProperties"].get<bool>();
            std::vector<std::string> known;
            if (props)
                for (const auto& [k, v] : props->items())
                    known.push_back(k);
            const json* names = schema.contains("propertyNames") ? &schema["propertyNames"] : nullptr;
            for (const auto& key : doc_.keys(pointer))
            {
                if (!inst.contains(key))
                    continue;
                std::string child = child_pointer(pointer, key);
                if (names && names->contains("pattern"))
                {
                    if (!std::regex_search(key, cached_regex((*names)["pattern"].get<std::string>())))
                        diag_.add(doc_.key_at(child), "invalid name '" + key +
                                                          "' (use letters, digits, '_' and '-', starting with a "
                                                          "letter or '_')");
                }
                if (props && props->contains(key))
                    walk(inst[key], {&(*props)[key], s.file}, child);
                else if (closed)
                {
                    auto hint = did_you_mean(key, known);
                    diag_.add(doc_.key_at(child),
                              "unknown key '" + key + "'" +
                                  (hint.empty() ? " (expected one of: " + join(known) + ")" : hint));
                }
                else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
                    walk(inst[key], {&schema["additionalProperties"], s.file}, child);
            }
        }
        else if (inst.is_array() && schema.contains("items") && schema["items"].is_object())
        {
            for (std::size_t i = 0; i < inst.size(); ++i)
                walk(inst[i], {&schema["items"], s.file}, child_pointer(pointer, i));
        }
    }

    void report(const std::vector<std::string>& context, const std::string& description, schema_ref root_schema)
    {
        static const char* const skipped[] = {
            "Failed to validate against schema associated with property name",
            "Failed to validate item #",
            "Failed to validate against additional properties schema",
            "Object contains a property that could not be validated",  // the walk reports all of them
            "Failed to validate against schema associated with pattern",
            "Failed to validate against child schema",
            "Failed to validate against any child schemas",
        };
        for (const char* prefix : skipped)
            if (description.rfind(prefix, 0) == 0)
                return;

        const std::string pointer = context_pointer(context);
        const auto tokens = pointer_tokens(pointer);
        const json* inst = instance_at(doc_.root, tokens);
        const schema_ref sub = subschema_at(doc_.root, root_schema, tokens);
        const std::string name = field_name(doc_.root, tokens);
        const json* schema = sub.node;

        std::string message;
        source_location where = doc_.at(pointer);
        if (description.rfind("Value type not permitted", 0) == 0 && inst && schema && schema->contains("type"))
        {
            std::vector<std::string> types;
            const auto& t = (*schema)["type"];
            if (t.is_array())
                for (const auto& x : t)
                    types.push_back(schema_type_name(x.get<std::string>()));
            else
                types.push_back(schema_type_name(t.get<std::string>()));
            message = name + " must be " + join(types, " or ") + ", got " + type_name(*inst);
        }
        else if (description.rfind("Missing required property '", 0) == 0)
        {
            auto key = description.substr(27, description.find('\'', 27) - 27);
            message = "missing required key '" + key + "'" + (tokens.empty() ? "" : " in " + name);
            where = tokens.empty() ? source_location{doc_.file, 1, 1} : doc_.key_at(pointer);
        }
        else if (description.rfind("Failed to match against any enum values", 0) == 0 && inst && schema &&
                 schema->contains("enum"))
        {
            std::vector<std::string> allowed;
            for (const auto& v : (*schema)["enum"])
                allowed.push_back(scalar_text(v));
            const std::string value = scalar_text(*inst);
            auto hint = did_you_mean(value, allowed);
            message = "invalid value '" + value + "' for " + name +
                      (hint.empty() ? " (expected one of: " + join(allowed) + ")" : hint);
        }
        else if (description.rfind("Failed to match regex", 0) == 0 && inst)
        {
            std::string expected = schema && schema->contains("description")
                                       ? (*schema)["description"].get<std::string>()
                                       : "a value matching " + (schema && schema->contains("pattern")
                                                                    ? (*schema)["pattern"].get<std::string>()
                                                                    : std::string("the pattern"));
            message = "invalid value '" + scalar_text(*inst) + "' for " + name + " (expected " + expected + ")";
        }
        else if (description.rfind("Expected number greater than or equal to", 0) == 0 && schema &&
                 schema->contains("minimum"))
            message = name + " must be at least " + number_text((*schema)["minimum"]);
        else if (description.rfind("Expected number less than or equal to", 0) == 0 && schema &&
                 schema->contains("maximum"))
            message = name + " must be at most " + number_text((*schema)["maximum"]);
        else if (description.find("violate uniqueness constraint") != std::string::npos)
            message = name + " lists the same entry twice";
        else if (description.rfind("Array should contain no fewer than", 0) == 0 && schema &&
                 schema->contains("minItems"))
            message = name + " must have at least " + number_text((*schema)["minItems"]) + " item(s)";
        else if (description.rfind("String should be no fewer than", 0) == 0)
            message = name + " must not be empty";
        else if (description.rfind("Object should have no fewer than", 0) == 0)
            message = name + " must not be empty";
        else
        {
            message = description;
            if (!message.empty() && message.back() == '.')
                message.pop_back();
            if (!message.empty())
                message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
            message = name + ": " + message;
        }
        diag_.add(where, message);
    }

private:
    const yaml_document& doc_;
    diagnostics& diag_;
};

}  // namespace

bool validate_against_schema(const yaml_document& doc, std::string_view schema_name, diagnostics& diag)
{
    const std::string file = std::string(schema_name) + ".schema.json";
    const json* schema_doc = schema_document(file);
    if (!schema_doc)
    {
        diag.add({doc.file, 0, 0}, "internal error: no schema named '" + std::string(schema_name) + "'");
        return false;
    }
    const std::size_t before = diag.size();
    checker check(doc, diag);
    if (!doc.root.is_object())
    {
        diag.add(doc.at(""), "the file must be a mapping (key: value), got " + type_name(doc.root));
        return false;
    }
    check.walk(doc.root, {schema_doc, file}, "");

    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(doc.root);
    const bool ok = validator.validate(compiled_schema(file), target, &results);
    valijson::ValidationResults::Error error;
    while (results.popError(error))
        check.report(error.context, error.description, {schema_doc, file});
    return ok && diag.size() == before;
}

}  // namespace ep::engine::detail
