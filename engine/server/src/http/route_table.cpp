#include "http/route_table.hpp"

#include <algorithm>

namespace ep::server {

namespace {

std::vector<std::string> split_path(std::string_view path)
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < path.size())
    {
        if (path[pos] == '/')
        {
            ++pos;
            continue;
        }
        auto end = path.find('/', pos);
        if (end == std::string_view::npos)
            end = path.size();
        out.emplace_back(path.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

bool is_capture(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

}  // namespace

void route_table::add(http::verb verb, std::string pattern, handler_fn handler, route_options options)
{
    auto segments = split_path(pattern);
    routes_.push_back(route{verb, std::move(pattern), std::move(segments), std::move(handler), options});
}

route_table::match_result route_table::match(http::verb verb, std::string_view path) const
{
    match_result out;
    // A path with an empty segment ("/v1//runs") or a trailing slash matches nothing.
    if (path.empty() || path.front() != '/' || path.find("//") != std::string_view::npos ||
        (path.size() > 1 && path.back() == '/'))
        return out;
    const auto parts = split_path(path);
    for (const auto& r : routes_)
    {
        if (r.segments.size() != parts.size())
            continue;
        std::map<std::string, std::string> params;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i)
        {
            if (is_capture(r.segments[i]))
                params[r.segments[i].substr(1, r.segments[i].size() - 2)] = parts[i];
            else
                ok = r.segments[i] == parts[i];
        }
        if (!ok)
            continue;
        if (r.verb == verb)
        {
            out.kind = outcome::found;
            out.found = &r;
            out.params = std::move(params);
            return out;
        }
        out.kind = outcome::method_not_allowed;
        if (std::find(out.allowed.begin(), out.allowed.end(), r.verb) == out.allowed.end())
            out.allowed.push_back(r.verb);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> route_table::list() const
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : routes_)
        out.emplace_back(std::string(http::to_string(r.verb)), r.pattern);
    return out;
}

std::string allow_header(const std::vector<http::verb>& verbs)
{
    std::string out;
    for (auto v : verbs)
    {
        if (!out.empty())
            out += ", ";
        out += std::string(http::to_string(v));
    }
    return out;
}

}  // namespace ep::server
