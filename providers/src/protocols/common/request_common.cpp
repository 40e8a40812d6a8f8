#include "protocols/common/request_common.hpp"

#include <algorithm>
#include <cctype>

namespace ep::providers::sansio {

namespace {

std::string header_safe(std::string_view v)
{
    std::string out(v);
    std::replace_if(out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
    return out;
}

std::string header_name_safe(std::string_view key)
{
    std::string out;
    for (char c : key)
    {
        auto uc = static_cast<unsigned char>(c);
        out.push_back(std::isalnum(uc) || c == '-' ? static_cast<char>(std::tolower(uc)) : '-');
    }
    return out;
}

}  // namespace

std::string join_path(std::string_view base_path, std::string_view suffix)
{
    while (!base_path.empty() && base_path.back() == '/')
        base_path.remove_suffix(1);
    std::string out(base_path);
    out += suffix;
    return out;
}

void add_common_headers(http_request& spec, const provider_config& cfg, const chat_request& req)
{
    spec.headers.emplace_back("Content-Type", "application/json");
    spec.headers.emplace_back("Accept", "text/event-stream");
    // No Accept-Encoding: a compressed SSE body could not be parsed line by line.
    for (auto const& [k, v] : cfg.extra_headers)
        spec.headers.emplace_back(header_safe(k), header_safe(v));
    for (auto const& [k, v] : req.metadata)
        spec.headers.emplace_back("x-ep-" + header_name_safe(k), header_safe(v));
}

std::string effective_system(const chat_request& req)
{
    std::string out = req.system;
    for (auto const& m : req.messages)
    {
        if (m.who != role::system)
            continue;
        auto t = m.text();
        if (t.empty())
            continue;
        if (!out.empty())
            out += "\n\n";
        out += t;
    }
    return out;
}

}  // namespace ep::providers::sansio
