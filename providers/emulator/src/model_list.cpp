// The emulator's model lists (model_list.hpp).
#include "model_list.hpp"

#include "server_core.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace ep::emulator::detail {
namespace {

using json = nlohmann::json;

struct emulated_model
{
    const char* id;
    const char* display_name;
    std::int64_t input_limit;
    std::int64_t output_limit;
};

constexpr emulated_model openai_models[] = {
    {"gpt-6.2-sol", "GPT-6.2 Sol", 1050000, 128000},
    {"gpt-6-luna", "GPT-6 Luna", 1050000, 128000},
    {"emulator-echo-1", "Emulator echo", 32000, 4096},
};
constexpr emulated_model anthropic_models[] = {
    {"claude-sonnet-5-5", "Claude Sonnet 5.5", 1000000, 128000},
    {"claude-haiku-5-5", "Claude Haiku 5.5", 1000000, 128000},
    {"emulator-echo-1", "Emulator echo", 32000, 4096},
};
constexpr emulated_model gemini_models[] = {
    {"gemini-4-neon", "Gemini 4 Neon", 1048576, 65536},
    {"gemini-3.8-flash", "Gemini 3.8 Flash", 1048576, 65536},
    {"emulator-echo-1", "Emulator echo", 32000, 4096},
};

std::size_t query_size(const split_target_t& target, std::string_view key, std::size_t fallback)
{
    for (const auto& [k, v] : target.query)
        if (k == key)
        {
            std::size_t n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec == std::errc{} && n > 0)
                return n;
        }
    return fallback;
}

std::string query_string(const split_target_t& target, std::string_view key)
{
    for (const auto& [k, v] : target.query)
        if (k == key)
            return v;
    return {};
}

reply json_reply(json body)
{
    reply r;
    body["emulator"] = emulator_label;
    r.body = body.dump();
    return r;
}

reply openai_list()
{
    json data = json::array();
    for (const auto& m : openai_models)
        data.push_back({{"id", m.id}, {"object", "model"}, {"created", 1780000000}, {"owned_by", "ep-emulator"}});
    return json_reply({{"object", "list"}, {"data", std::move(data)}});
}

reply anthropic_list(const split_target_t& target)
{
    const std::size_t limit = query_size(target, "limit", 20);
    const std::string after = query_string(target, "after_id");
    std::size_t start = 0;
    if (!after.empty())
        for (std::size_t i = 0; i < std::size(anthropic_models); ++i)
            if (after == anthropic_models[i].id)
                start = i + 1;
    const std::size_t end = std::min(std::size(anthropic_models), start + limit);
    json data = json::array();
    for (std::size_t i = start; i < end; ++i)
    {
        const auto& m = anthropic_models[i];
        data.push_back({{"type", "model"}, {"id", m.id}, {"display_name", m.display_name},
                        {"created_at", "2026-09-22T00:00:00Z"}, {"max_input_tokens", m.input_limit},
                        {"max_tokens", m.output_limit}});
    }
    json body = {{"data", data}, {"has_more", end < std::size(anthropic_models)}};
    body["first_id"] = data.empty() ? json(nullptr) : data.front()["id"];
    body["last_id"] = data.empty() ? json(nullptr) : data.back()["id"];
    return json_reply(std::move(body));
}

reply gemini_list(const split_target_t& target)
{
    const std::size_t size = query_size(target, "pageSize", 50);
    const std::size_t start = query_size(target, "pageToken", 0);
    const std::size_t end = std::min(std::size(gemini_models), start + size);
    json models = json::array();
    for (std::size_t i = std::min(start, end); i < end; ++i)
    {
        const auto& m = gemini_models[i];
        models.push_back({{"name", std::string("models/") + m.id}, {"displayName", m.display_name},
                          {"inputTokenLimit", m.input_limit}, {"outputTokenLimit", m.output_limit},
                          {"supportedGenerationMethods", {"generateContent", "streamGenerateContent"}}});
    }
    json body = {{"models", std::move(models)}};
    if (end < std::size(gemini_models))
        body["nextPageToken"] = std::to_string(end);  // the index of the next model
    return json_reply(std::move(body));
}

}  // namespace

std::optional<reply> model_list_reply(const http_request& req, const split_target_t& target)
{
    if (req.method() != boost::beast::http::verb::get)
        return std::nullopt;
    if (target.path == "/v1beta/models")
        return gemini_list(target);
    if (target.path == "/v1/models")
        return header(req, "anthropic-version").empty() ? openai_list() : anthropic_list(target);
    return std::nullopt;
}

}  // namespace ep::emulator::detail
