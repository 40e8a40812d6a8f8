#include <ep/common/env.hpp>
#include <ep/common/read_file.hpp>

#include <sstream>

extern char** environ;

namespace ep {

namespace {

std::string trim(std::string s)
{
    auto const first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos)
        return {};
    auto const last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text)
{
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
    {
        line = trim(line);
        if (line.empty() || line.front() == '#')
            continue;
        if (line.rfind("export ", 0) == 0)
            line = trim(line.substr(7));
        auto const eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            continue;
        std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        else if (auto const hash = value.find(" #"); hash != std::string::npos)
            value = trim(value.substr(0, hash));  // unquoted values may carry a trailing comment
        out[key] = value;
    }
    return out;
}

environment environment::load(const std::filesystem::path& dotenv)
{
    environment env;
    for (char** e = environ; e && *e; ++e)
    {
        std::string_view entry(*e);
        auto const eq = entry.find('=');
        if (eq != std::string_view::npos)
            env.values_.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    std::error_code ec;
    if (!dotenv.empty() && std::filesystem::is_regular_file(dotenv, ec))
    {
        for (auto& [k, v] : parse_dotenv(read_whole_file(dotenv).value_or("")))
            env.values_.emplace(k, v);  // emplace: the real environment wins
    }
    return env;
}

environment environment::from_map(std::map<std::string, std::string> values)
{
    environment env;
    env.values_ = std::move(values);
    return env;
}

std::optional<std::string> environment::get(const std::string& name) const
{
    auto const it = values_.find(name);
    if (it == values_.end() || it->second.empty())
        return std::nullopt;
    return it->second;
}

}  // namespace ep
