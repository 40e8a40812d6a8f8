// The codec table: provider `type` → wire protocol. Adding a protocol is a folder under
// protocols/ plus a row here.
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/codec.hpp"
#include "protocols/gemini/gemini.hpp"
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <ep/providers/options.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>

namespace ep::providers::sansio {

namespace {

std::unique_ptr<stream_decoder> gemini_decoder() { return make_gemini_decoder(); }

const std::array<protocol_entry, 5> table = {{
    {"openai", http_codec{encode_openai_request, make_openai_decoder, classify_openai_error}, parse_openai_options,
     openai_option_keys},
    // Same endpoint family and options (Azure included) as openai, another wire format.
    {"openai_responses", http_codec{encode_responses_request, make_responses_decoder, classify_responses_error},
     parse_openai_options, openai_option_keys},
    {"anthropic", http_codec{encode_anthropic_request, make_anthropic_decoder, classify_anthropic_error}, nullptr,
     nullptr},
    {"gemini", http_codec{encode_gemini_request, gemini_decoder, classify_gemini_error}, nullptr, nullptr},
    {"claude_agent", cli_codec{claude_cli_args, claude_cli_prompt, make_claude_stream_json_decoder},
     parse_claude_cli_options, claude_cli_option_keys},
}};

}  // namespace

std::span<const protocol_entry> protocol_table() noexcept { return table; }

const protocol_entry* find_protocol(std::string_view type) noexcept
{
    for (auto const& row : table)
        if (row.type == type)
            return &row;
    return nullptr;
}

}  // namespace ep::providers::sansio

namespace ep::providers {

std::vector<std::string> known_provider_types()
{
    std::vector<std::string> out;
    for (auto const& row : sansio::protocol_table())
        out.emplace_back(row.type);
    return out;
}

void parse_type_options(const nlohmann::json& node, provider_config& cfg, std::vector<std::string>& errors,
                        bool values_checked_by_schema)
{
    auto const* own = sansio::find_protocol(cfg.type);
    if (!own)
    {
        std::string known;
        for (auto const& t : known_provider_types())
            known += (known.empty() ? "" : ", ") + t;
        errors.push_back("unknown provider type '" + cfg.type + "' (expected " + known + ")");
        return;
    }
    if (!node.is_object())
        return;
    // An option of another type is a mistake worth naming (a copied block, a changed type).
    auto is_own = [&](std::string_view key) {
        if (!own->option_keys)
            return false;
        auto keys = own->option_keys();
        return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    std::map<std::string_view, std::string> misplaced;  // key → the types it belongs to
    for (auto const& row : sansio::protocol_table())
    {
        if (&row == own || !row.option_keys)
            continue;
        for (auto key : row.option_keys())
            if (node.contains(key) && !is_own(key))
            {
                auto& types = misplaced[key];
                types += (types.empty() ? "" : " or ") + std::string(row.type);
            }
    }
    for (auto const& [key, types] : misplaced)
        errors.push_back(std::string(key) + " applies to type " + types + ", not " + cfg.type);
    if (!own->parse_options)
        return;
    std::vector<std::string> value_errors;
    own->parse_options(node, cfg, value_errors);
    if (!values_checked_by_schema)
        errors.insert(errors.end(), value_errors.begin(), value_errors.end());
}

}  // namespace ep::providers
