// The options only the claude_agent type has.
#include "protocols/claude_cli/claude_cli.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace ep::providers::sansio {

namespace {

constexpr std::string_view keys[] = {"cli", "cli_env", "cli_args"};

bool is_variable_name(const std::string& s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front())))
        return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

}  // namespace

std::span<const std::string_view> claude_cli_option_keys() noexcept { return keys; }

void parse_claude_cli_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors)
{
    if (auto const* v = member(node, "cli"))
    {
        if (v->is_string() && !v->get_ref<const std::string&>().empty())
            cfg.cli_path = v->get<std::string>();
        else
            errors.emplace_back("cli must be the CLI program: a name looked up on PATH or a path");
    }
    if (auto const* v = member(node, "cli_env"))
    {
        if (v->is_string() && is_variable_name(v->get_ref<const std::string&>()))
            cfg.cli_env = v->get<std::string>();
        else
            errors.emplace_back("cli_env must be an environment variable name, e.g. EP_CLAUDE_CLI");
    }
    if (auto const* v = member(node, "cli_args"))
    {
        std::vector<std::string> args;
        bool ok = v->is_array();
        if (ok)
            for (auto const& a : *v)
            {
                if (!a.is_string())
                {
                    ok = false;
                    break;
                }
                args.push_back(a.get<std::string>());
            }
        if (ok)
            cfg.cli_extra_args = std::move(args);
        else
            errors.emplace_back("cli_args must be a list of strings");
    }
}

}  // namespace ep::providers::sansio
