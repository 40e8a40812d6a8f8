#include "http_util.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace ep::emulator::detail {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0)
        {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        }
        else
            out += s[i];
    }
    return out;
}

bool is_credential_header(const std::string& lower_name)
{
    static const char* names[] = {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key",
                                  "api-key", "cookie"};
    return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return lower_name == n; });
}

}  // namespace

bool split_target_t::query_has(std::string_view key, std::string_view value) const
{
    return std::any_of(query.begin(), query.end(), [&](const auto& kv) { return kv.first == key && kv.second == value; });
}

split_target_t split_target(std::string_view target)
{
    split_target_t out;
    auto q = target.find('?');
    out.path = percent_decode(target.substr(0, q));
    if (q == std::string_view::npos)
        return out;
    auto query = target.substr(q + 1);
    while (!query.empty())
    {
        auto amp = query.find('&');
        auto item = query.substr(0, amp);
        auto eq = item.find('=');
        out.query.emplace_back(percent_decode(item.substr(0, eq)),
                               eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1)));
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

std::string redact_target(std::string_view target)
{
    auto q = target.find('?');
    if (q == std::string_view::npos)
        return std::string(target);
    std::string out(target.substr(0, q + 1));
    auto query = target.substr(q + 1);
    bool first = true;
    while (true)
    {
        auto amp = query.find('&');
        auto item = query.substr(0, amp);
        if (!first)
            out += '&';
        first = false;
        if (item.starts_with("key="))
            out += "key=[redacted]";
        else
            out += item;
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

std::string header(const http_request& req, std::string_view name)
{
    auto it = req.find(boost::beast::string_view(name.data(), name.size()));
    return it == req.end() ? std::string() : std::string(it->value());
}

std::map<std::string, std::string> redacted_headers(const http_request& req)
{
    std::map<std::string, std::string> out;
    for (const auto& field : req)
    {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out[name] = is_credential_header(name) ? "[redacted]" : std::string(field.value());
    }
    return out;
}

std::string hex_id(std::uint64_t seed, std::uint64_t counter)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%012llx%06llx", static_cast<unsigned long long>(seed & 0xffffffffffffull),
                  static_cast<unsigned long long>(counter & 0xffffffull));
    return buf;
}

std::optional<std::vector<fault_rule>> parse_fault_rules(const std::string& body, std::string& error)
{
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded())
        return (error = "the body is not valid JSON", std::nullopt);
    if (j.is_object())
        j = nlohmann::json::array({j});
    if (!j.is_array())
        return (error = "expected a rule object or an array of them", std::nullopt);
    std::vector<fault_rule> rules;
    for (const auto& item : j)
    {
        if (!item.is_object() || !item.contains("fault") || !item["fault"].is_string())
            return (error = "each rule needs a string 'fault' (e.g. \"429,retry-after=1\")", std::nullopt);
        auto spec = parse_fault_spec(item["fault"].get<std::string>(), &error);
        if (!spec)
            return std::nullopt;
        fault_rule rule;
        rule.fault = *spec;
        if (item.contains("times"))
        {
            if (!item["times"].is_number_unsigned())
                return (error = "'times' must be a non-negative integer", std::nullopt);
            rule.fault.times = item["times"].get<int>();
        }
        for (auto [key, field] : {std::pair{"protocol", &rule.protocol}, std::pair{"model", &rule.model},
                                  std::pair{"persona", &rule.persona}})
        {
            if (!item.contains(key))
                continue;
            if (!item[key].is_string())
                return (error = std::string("'") + key + "' must be a string", std::nullopt);
            *field = item[key].get<std::string>();
        }
        rules.push_back(std::move(rule));
    }
    return rules;
}

}  // namespace ep::emulator::detail
