#include "answer.hpp"
#include "review_loop.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace ep::emulator::detail {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_word_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Position of `word` in `text` as a whole word (so "qa" does not match "aqua"), or npos.
std::size_t find_word(const std::string& text, std::string_view word)
{
    std::size_t pos = 0;
    while ((pos = text.find(word, pos)) != std::string::npos)
    {
        bool left = pos == 0 || !is_word_char(text[pos - 1]);
        auto end = pos + word.size();
        // A trailing "s" still counts ("tests", "engineers").
        bool right = end >= text.size() || !is_word_char(text[end]) ||
                     (text[end] == 's' && (end + 1 >= text.size() || !is_word_char(text[end + 1])));
        if (left && right)
            return pos;
        ++pos;
    }
    return std::string::npos;
}

// A short excerpt of the user's request, one line, for the answer's title.
std::string topic_of(std::string_view user_text)
{
    std::string topic;
    for (char c : user_text)
    {
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (c == ' ' && (topic.empty() || topic.back() == ' '))
            continue;
        topic += c;
        if (topic.size() >= 60)
            break;
    }
    while (!topic.empty() && topic.back() == ' ')
        topic.pop_back();
    return topic.empty() ? std::string("the request") : topic;
}

template <std::size_t N>
std::string_view pick(const std::array<std::string_view, N>& options, std::uint64_t seed, int salt = 0)
{
    return options[(seed >> (salt * 7)) % N];
}

constexpr std::array<std::string_view, 6> component_names = {
    "Gateway", "Scheduler", "Store", "Planner", "Worker pool", "Event bus"};
constexpr std::array<std::string_view, 4> languages = {"cpp", "python", "cpp", "typescript"};

std::string architect_text(const std::string& topic, std::uint64_t seed)
{
    auto a = pick(component_names, seed, 0);
    auto b = pick(component_names, seed, 1);
    if (a == b)
        b = "Cache";
    return "# Design: " + topic + "\n\n## Components\n- **" + std::string(a) +
           "**: owns the public interface and validates input.\n- **" + std::string(b) +
           "**: does the work behind a narrow, testable contract.\n- **Store**: persists results in one "
           "transaction per step.\n\n## Data flow\nRequest → " +
           std::string(a) + " → " + std::string(b) +
           " → Store → response.\n\n## Risks\n- Back-pressure between components; bound every queue.\n";
}

std::string code_text(const std::string& topic, const std::string& user_text, std::uint64_t seed)
{
    const std::string user_lower = lower(user_text);
    std::string lang = std::string(pick(languages, seed));
    if (user_lower.find("python") != std::string::npos)
        lang = "python";
    else if (user_lower.find("c++") != std::string::npos || user_lower.find("cpp") != std::string::npos)
        lang = "cpp";
    std::string code;
    if (lang == "python")
        code = "def solve(items):\n    \"\"\"" + topic + "\"\"\"\n    return sorted(set(items))\n";
    else if (lang == "typescript")
        code = "// " + topic + "\nexport function solve(items: number[]): number[] {\n"
               "  return [...new Set(items)].sort((a, b) => a - b);\n}\n";
    else
        code = "// " + topic + "\n#include <set>\n#include <vector>\n\nstd::vector<int> solve(const "
               "std::vector<int>& items)\n{\n    std::set<int> unique(items.begin(), items.end());\n"
               "    return {unique.begin(), unique.end()};\n}\n";
    return "Implementation for: " + topic + "\n\n" + addressed_line(user_text) + "```" + lang + "\n" +
           code + "```\n";
}

// Requests changes until the implementation under review quotes the findings (review_loop.hpp).
std::string reviewer_text(const std::string& topic, const std::string& user_text)
{
    const bool approve = addresses_findings(user_text);
    std::string findings;
    if (approve)
        findings = "1. The findings of the previous review are addressed.\n";
    else
        for (std::size_t i = 0; i < reviewer_findings().size(); ++i)
            findings += std::to_string(i + 1) + ". " + reviewer_findings()[i] + "\n";
    return "## Review of: " + topic + "\n\n### Findings\n" + findings + "\n### Verdict\n" +
           (approve ? std::string("APPROVE\n") : std::string("REQUEST_CHANGES\n"));
}

std::string qa_text(const std::string& topic)
{
    return "## Test plan: " + topic +
           "\n\n| # | Case | Expected |\n|---|---|---|\n| 1 | Happy path with valid input | Success "
           "|\n| 2 | Empty input | Clear error, nothing written |\n| 3 | Failure mid-way | Resumes from "
           "the last checkpoint |\n\nCoverage: unit tests for each case, one end-to-end run.\n";
}

std::string requirements_text(const std::string& topic)
{
    return "## Requirements: " + topic +
           "\n\n- R1: The system SHALL accept the described input and validate it.\n- R2: The system SHALL "
           "report every failure with a clear message.\n- R3: The system SHOULD finish within the agreed "
           "time budget.\n\nOpen question: who owns the acceptance criteria?\n";
}

std::string docs_text(const std::string& topic)
{
    return "# " + topic +
           "\n\n## Overview\nThis document explains what the feature does and how to use it.\n\n## "
           "Usage\n```\nep-run workflow.yaml --input key=value\n```\n\n## Troubleshooting\nRun with "
           "`--json` to see every event.\n";
}

std::string generic_text(const std::string& topic)
{
    return "Here is a short answer about: " + topic +
           ". The request was received and understood; this reply is generated locally and "
           "deterministically for development and testing.\n";
}

std::string persona_text(const std::string& persona, const chat_call& call, std::uint64_t seed)
{
    auto topic = topic_of(call.last_user_text);
    if (persona == "architect")
        return architect_text(topic, seed);
    if (persona == "code_writer")
        return code_text(topic, call.last_user_text, seed);
    if (persona == "reviewer")
        return reviewer_text(topic, call.last_user_text);
    if (persona == "qa")
        return qa_text(topic);
    if (persona == "requirements")
        return requirements_text(topic);
    if (persona == "docs")
        return docs_text(topic);
    return generic_text(topic);
}

std::string schema_type(const nlohmann::json& schema)
{
    if (!schema.is_object() || !schema.contains("type"))
        return schema.is_object() && schema.contains("properties") ? "object" : "";
    const auto& t = schema["type"];
    std::string type;
    if (t.is_string())
        type = t.get<std::string>();
    else if (t.is_array())
        for (const auto& item : t)
            if (item.is_string() && item.get<std::string>() != "null")
            {
                type = item.get<std::string>();
                break;
            }
    return lower(type);  // Gemini's OpenAPI subset spells types "OBJECT", "STRING", …
}

}  // namespace

std::uint64_t stable_hash(std::string_view text) noexcept
{
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text)
    {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

int estimate_tokens(std::size_t chars) noexcept
{
    return static_cast<int>(std::max<std::size_t>(1, (chars + 3) / 4));
}

std::string detect_persona(std::string_view header_value, std::string_view system_prompt)
{
    struct role
    {
        std::string_view word;
        std::string_view persona;
    };
    static constexpr role roles[] = {
        {"architect", "architect"},       {"architecture", "architect"},
        {"reviewer", "reviewer"},         {"code review", "reviewer"},
        {"code writer", "code_writer"},   {"code_writer", "code_writer"},
        {"engineer", "code_writer"},      {"developer", "code_writer"},
        {"programmer", "code_writer"},    {"implementer", "code_writer"},
        {"qa", "qa"},                     {"tester", "qa"},
        {"test", "qa"},                   {"requirements", "requirements"},
        {"analyst", "requirements"},      {"documentation", "docs"},
        {"technical writer", "docs"},     {"docs", "docs"},
        {"assistant", "assistant"},
    };
    if (!header_value.empty())
    {
        auto h = lower(header_value);
        for (const auto& r : roles)
            if (h == r.word || h == r.persona)
                return std::string(r.persona);
        return h;  // an unknown persona name is kept as given: the caller knows best
    }
    auto text = lower(system_prompt);
    std::size_t best = std::string::npos;
    std::string_view persona = "assistant";
    for (const auto& r : roles)
    {
        auto pos = find_word(text, r.word);
        if (pos < best)
        {
            best = pos;
            persona = r.persona;
        }
    }
    return std::string(persona);
}

nlohmann::json fill_schema(const nlohmann::json& schema, const std::string& label, std::uint64_t seed, int depth)
{
    if (depth > 8 || !schema.is_object())
        return "emulated " + label;
    if (schema.contains("const"))
        return schema["const"];
    if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty())
        return schema["enum"][0];
    for (const char* key : {"anyOf", "oneOf", "allOf"})
        if (schema.contains(key) && schema[key].is_array() && !schema[key].empty())
            return fill_schema(schema[key][0], label, seed, depth + 1);

    auto type = schema_type(schema);
    if (type == "object")
    {
        auto out = nlohmann::json::object();
        if (schema.contains("properties") && schema["properties"].is_object())
            // Every declared property, not only the required ones: OpenAI strict schemas
            // require all of them, and extra known properties never violate a schema.
            for (const auto& [name, sub] : schema["properties"].items())
                out[name] = fill_schema(sub, name, seed, depth + 1);
        if (schema.contains("required") && schema["required"].is_array())
            for (const auto& name : schema["required"])
                if (name.is_string() && !out.contains(name.get<std::string>()))
                    out[name.get<std::string>()] = "emulated " + name.get<std::string>();
        return out;
    }
    if (type == "array")
    {
        auto out = nlohmann::json::array();
        std::size_t count = 1;
        if (schema.contains("minItems") && schema["minItems"].is_number_unsigned())
            count = std::max<std::size_t>(count, schema["minItems"].get<std::size_t>());
        nlohmann::json items = schema.contains("items") ? schema["items"] : nlohmann::json::object();
        for (std::size_t i = 0; i < count; ++i)
            out.push_back(fill_schema(items, label, seed + i, depth + 1));
        return out;
    }
    if (type == "integer")
    {
        std::int64_t v = static_cast<std::int64_t>(seed % 10) + 1;
        if (schema.contains("minimum") && schema["minimum"].is_number())
            v = std::max(v, static_cast<std::int64_t>(schema["minimum"].get<double>()));
        if (schema.contains("maximum") && schema["maximum"].is_number())
            v = std::min(v, static_cast<std::int64_t>(schema["maximum"].get<double>()));
        return v;
    }
    if (type == "number")
    {
        double v = static_cast<double>(seed % 100) / 10.0 + 1.0;
        if (schema.contains("minimum") && schema["minimum"].is_number())
            v = std::max(v, schema["minimum"].get<double>());
        if (schema.contains("maximum") && schema["maximum"].is_number())
            v = std::min(v, schema["maximum"].get<double>());
        return v;
    }
    if (type == "boolean")
        return true;
    if (type == "null")
        return nullptr;
    return "emulated " + label;
}

std::vector<std::string> split_tokens(std::string_view text, std::size_t max_piece)
{
    std::vector<std::string> out;
    std::string piece;
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        char c = text[i];
        piece += c;
        bool boundary = (c == ' ' || c == '\n') && i + 1 < text.size() && text[i + 1] != ' ';
        // Never split inside a UTF-8 sequence: only cut before a lead or ASCII byte.
        bool next_is_continuation =
            i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
        if ((boundary || piece.size() >= max_piece) && !next_is_continuation)
        {
            out.push_back(std::move(piece));
            piece.clear();
        }
    }
    if (!piece.empty())
        out.push_back(std::move(piece));
    return out;
}

answer make_answer(const chat_call& call, const std::string& persona)
{
    answer a;
    a.persona = persona;
    a.seed = stable_hash(call.last_is_tool_result ? call.tool_result_text : call.last_user_text);
    a.input_tokens = estimate_tokens(call.input_chars);

    bool offer_tools = !call.tools.empty() && !call.tools_disabled && !call.last_is_tool_result;
    if (offer_tools)
    {
        const tool_def* tool = &call.tools.front();
        if (call.forced_tool)
            for (const auto& t : call.tools)
                if (t.name == *call.forced_tool)
                    tool = &t;
        tool_call_answer tc;
        tc.name = tool->name;
        tc.arguments = fill_schema(tool->schema.is_null() ? nlohmann::json{{"type", "object"}} : tool->schema,
                                   tool->name, a.seed);
        if (!tc.arguments.is_object())
            tc.arguments = nlohmann::json::object();
        char id[32];
        std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(a.seed));
        tc.id = id;
        a.output_tokens = estimate_tokens(tc.name.size() + tc.arguments.dump().size());
        a.tool_call = std::move(tc);
        return a;
    }

    std::string marker = "[emulated " + persona + " via " + call.protocol + "]";
    if (call.json_mode)
    {
        nlohmann::json value;
        if (call.json_schema.is_object() && schema_type(call.json_schema) == "object")
        {
            value = fill_schema(call.json_schema, persona, a.seed);
            if (persona == "reviewer")
                apply_review_verdict(value, call.json_schema, addresses_findings(call.last_user_text));
        }
        else
            value = {{"emulated", true},
                     {"persona", persona},
                     {"protocol", call.protocol},
                     {"summary", marker + " " + topic_of(call.last_user_text)}};
        a.text = value.dump();
    }
    else if (call.last_is_tool_result)
        a.text = marker + "\n\nThe tool returned: " + topic_of(call.tool_result_text) +
                 "\n\nBased on that result, the task is complete.\n";
    else
        a.text = marker + "\n\n" + persona_text(persona, call, a.seed);
    a.output_tokens = estimate_tokens(a.text.size());
    return a;
}

}  // namespace ep::emulator::detail
