// The options only the openai type has.
#include "protocols/openai/openai.hpp"

#include <nlohmann/json.hpp>

namespace ep::providers::sansio {

namespace {

constexpr std::string_view keys[] = {"azure_api_version", "use_max_completion_tokens"};

}  // namespace

std::span<const std::string_view> openai_option_keys() noexcept { return keys; }

void parse_openai_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors)
{
    if (auto const* v = member(node, "azure_api_version"))
    {
        if (v->is_string() && !v->get_ref<const std::string&>().empty())
            cfg.azure_api_version = v->get<std::string>();
        else
            errors.emplace_back("azure_api_version must be a non-empty string (e.g. 2024-10-21)");
    }
    if (auto const* v = member(node, "use_max_completion_tokens"))
    {
        if (v->is_boolean())
            cfg.use_max_completion_tokens = v->get<bool>();
        else
            errors.emplace_back("use_max_completion_tokens must be true or false");
    }
}

}  // namespace ep::providers::sansio
