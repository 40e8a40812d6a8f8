#include "review_loop.hpp"

#include <algorithm>
#include <cctype>

namespace ep::emulator::detail {

std::vector<std::string> finding_ids(const std::string& text)
{
    std::vector<std::string> out;
    for (std::size_t pos = text.find("RV-"); pos != std::string::npos; pos = text.find("RV-", pos + 3))
    {
        std::size_t end = pos + 3;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
            ++end;
        if (end == pos + 3)
            continue;
        auto id = text.substr(pos, end - pos);
        if (std::find(out.begin(), out.end(), id) == out.end())
            out.push_back(std::move(id));
    }
    return out;
}

bool addresses_findings(const std::string& text)
{
    return text.find("Addresses review findings:") != std::string::npos;
}

std::string addressed_line(const std::string& prompt)
{
    const auto ids = finding_ids(prompt);
    if (ids.empty())
        return {};
    std::string line = "Addresses review findings:";
    for (const auto& id : ids)
        line += " " + id;
    return line + "\n";
}

const std::vector<std::string>& reviewer_findings()
{
    static const std::vector<std::string> findings = {
        "RV-1: one error path has no test; add a test that drives it",
        "RV-2: a function does two jobs; split it so each can be tested alone"};
    return findings;
}

namespace {

bool enum_allows(const nlohmann::json& schema, const char* value)
{
    if (!schema.is_object() || !schema.contains("enum") || !schema["enum"].is_array())
        return false;
    for (const auto& v : schema["enum"])
        if (v.is_string() && v.get<std::string>() == value)
            return true;
    return false;
}

}  // namespace

void apply_review_verdict(nlohmann::json& value, const nlohmann::json& schema, bool approve)
{
    if (!value.is_object() || !schema.is_object() || !schema.contains("properties"))
        return;
    const auto& props = schema["properties"];
    const char* verdict = approve ? "approve" : "request_changes";
    if (props.contains("verdict") && enum_allows(props["verdict"], verdict))
        value["verdict"] = verdict;
    if (!value.contains("findings") || !value["findings"].is_array())
        return;
    auto& findings = value["findings"];
    if (approve)
    {
        findings = nlohmann::json::array();
        return;
    }
    const auto& texts = reviewer_findings();
    if (findings.empty() || !findings[0].is_object())
        return;
    const auto shape = findings[0];
    findings = nlohmann::json::array();
    for (const auto& text : texts)
    {
        auto f = shape;
        if (f.contains("message"))
            f["message"] = text;
        findings.push_back(std::move(f));
    }
}

}  // namespace ep::emulator::detail
