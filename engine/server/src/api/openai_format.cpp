#include "api/openai_format.hpp"

#include <ep/engine/routing/routing_error.hpp>
#include <ep/providers/convert.hpp>
#include <ep/providers/error.hpp>

#include <boost/asio/error.hpp>

namespace ep::server {

using nlohmann::json;
namespace pv = ep::providers;
namespace http = boost::beast::http;

namespace {

request_problem problem(std::string param, std::string message) { return {std::move(param), std::move(message)}; }

std::optional<request_problem> read_tools(const json& body, pv::chat_request& req)
{
    if (!body.contains("tools"))
        return std::nullopt;
    const auto& tools = body["tools"];
    if (!tools.is_array())
        return problem("tools", "'tools' must be an array");
    for (std::size_t i = 0; i < tools.size(); ++i)
    {
        const auto& t = tools[i];
        const std::string at = "tools[" + std::to_string(i) + "]";
        if (!t.is_object() || t.value("type", std::string{}) != "function" || !t.contains("function") ||
            !t["function"].is_object())
            return problem(at, at + " must be {\"type\": \"function\", \"function\": {...}}");
        const auto& fn = t["function"];
        if (!fn.contains("name") || !fn["name"].is_string() || fn["name"].get<std::string>().empty())
            return problem(at + ".function.name", "a tool needs a name");
        pv::tool_spec spec;
        spec.name = fn["name"].get<std::string>();
        if (fn.contains("description") && fn["description"].is_string())
            spec.description = fn["description"].get<std::string>();
        if (fn.contains("parameters"))
        {
            if (!fn["parameters"].is_object())
                return problem(at + ".function.parameters", "parameters must be a JSON Schema object");
            spec.parameters = fn["parameters"];
        }
        req.tools.push_back(std::move(spec));
    }
    if (body.contains("tool_choice"))
    {
        const auto& c = body["tool_choice"];
        pv::tool_choice choice;
        if (c == "auto")
            choice.kind = pv::tool_choice::mode::auto_;
        else if (c == "none")
            choice.kind = pv::tool_choice::mode::none;
        else if (c == "required")
            choice.kind = pv::tool_choice::mode::required;
        else if (c.is_object() && c.contains("function") && c["function"].is_object() &&
                 c["function"].value("name", std::string{}) != "")
        {
            choice.kind = pv::tool_choice::mode::named;
            choice.name = c["function"]["name"].get<std::string>();
        }
        else
            return problem("tool_choice", "tool_choice must be auto, none, required or {type: function, function: {name}}");
        req.choice = choice;
    }
    return std::nullopt;
}

std::optional<request_problem> read_response_format(const json& body, pv::chat_request& req)
{
    if (!body.contains("response_format") || body["response_format"].is_null())
        return std::nullopt;
    const auto& f = body["response_format"];
    if (!f.is_object() || !f.contains("type") || !f["type"].is_string())
        return problem("response_format", "response_format must be {\"type\": \"text\" | \"json_object\" | \"json_schema\"}");
    const auto type = f["type"].get<std::string>();
    if (type == "text")
        return std::nullopt;
    if (type == "json_object")
    {
        req.json_mode = pv::json_output{};
        return std::nullopt;
    }
    if (type == "json_schema")
    {
        const auto& js = f.value("json_schema", json::object());
        if (!js.is_object() || !js.contains("schema") || !js["schema"].is_object())
            return problem("response_format.json_schema.schema", "json_schema needs a schema object");
        pv::json_output out;
        out.schema = js["schema"];
        if (js.contains("name") && js["name"].is_string())
            out.schema_name = js["name"].get<std::string>();
        req.json_mode = std::move(out);
        return std::nullopt;
    }
    return problem("response_format.type", "unknown response_format type '" + type + "'");
}

std::optional<request_problem> read_sampling(const json& body, pv::chat_request& req)
{
    for (const char* key : {"max_completion_tokens", "max_tokens"})
        if (body.contains(key) && !body[key].is_null())
        {
            if (!body[key].is_number_integer() || body[key].get<std::int64_t>() < 1 ||
                body[key].get<std::int64_t>() > 10'000'000)
                return problem(key, std::string(key) + " must be a positive integer");
            if (!req.max_tokens)
                req.max_tokens = body[key].get<int>();
        }
    if (body.contains("temperature") && !body["temperature"].is_null())
    {
        if (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 || body["temperature"].get<double>() > 2)
            return problem("temperature", "temperature must be a number from 0 to 2");
        req.temperature = body["temperature"].get<double>();
    }
    if (body.contains("top_p") && !body["top_p"].is_null())
    {
        if (!body["top_p"].is_number() || body["top_p"].get<double>() < 0 || body["top_p"].get<double>() > 1)
            return problem("top_p", "top_p must be a number from 0 to 1");
        req.top_p = body["top_p"].get<double>();
    }
    if (body.contains("stop") && !body["stop"].is_null())
    {
        const auto& s = body["stop"];
        if (s.is_string())
            req.stop.push_back(s.get<std::string>());
        else if (s.is_array() && s.size() <= 4 && std::all_of(s.begin(), s.end(), [](const json& x) { return x.is_string(); }))
            for (const auto& x : s)
                req.stop.push_back(x.get<std::string>());
        else
            return problem("stop", "stop must be a string or up to 4 strings");
    }
    if (body.contains("n") && !body["n"].is_null() && body["n"] != 1)
        return problem("n", "only n = 1 is supported");
    return std::nullopt;
}

}  // namespace

std::variant<chat_completion_request, request_problem> parse_chat_request(const json& body)
{
    chat_completion_request out;
    if (!body.contains("model") || !body["model"].is_string() || body["model"].get<std::string>().empty())
        return problem("model", "'model' must be a non-empty string (persona/NAME or PROVIDER/MODEL)");
    out.model = body["model"].get<std::string>();
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
        return problem("messages", "'messages' must be a non-empty array");
    for (std::size_t i = 0; i < body["messages"].size(); ++i)
    {
        const auto& m = body["messages"][i];
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
            return problem("messages[" + std::to_string(i) + "]", "each message needs a string 'role'");
        if (m.contains("content") && !m["content"].is_null() && !m["content"].is_string() && !m["content"].is_array())
            return problem("messages[" + std::to_string(i) + "].content", "content must be a string or an array of parts");
    }
    auto conv = pv::from_openai_messages(body["messages"]);
    if (!conv)
        return problem("messages", "the messages cannot be read: unknown role or malformed tool call");
    out.request.system = std::move(conv->system);
    out.request.messages = std::move(conv->messages);
    if (body.contains("stream") && !body["stream"].is_null())
    {
        if (!body["stream"].is_boolean())
            return problem("stream", "'stream' must be a boolean");
        out.stream = body["stream"].get<bool>();
    }
    if (body.contains("stream_options") && body["stream_options"].is_object())
        out.include_usage = body["stream_options"].value("include_usage", false) == true;
    if (auto p = read_tools(body, out.request))
        return *p;
    if (auto p = read_response_format(body, out.request))
        return *p;
    if (auto p = read_sampling(body, out.request))
        return *p;
    return out;
}

json openai_error(std::string_view message, std::string_view type, std::string_view param, std::string_view code)
{
    return {{"error",
             {{"message", message},
              {"type", type},
              {"param", param.empty() ? json(nullptr) : json(param)},
              {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

gateway_failure classify_failure(boost::system::error_code ec)
{
    using pv::provider_errc;
    if (ec == provider_errc::invalid_request || ec == provider_errc::context_length_exceeded)
        return {http::status::bad_request, "invalid_request_error",
                ec == provider_errc::context_length_exceeded ? "context_length_exceeded" : "invalid_request"};
    if (ec == provider_errc::content_filter)
        return {http::status::bad_request, "invalid_request_error", "content_filter"};
    if (ec == provider_errc::rate_limited)
        return {http::status::too_many_requests, "rate_limit_error", "rate_limit_exceeded"};
    if (ec == provider_errc::connect_timeout || ec == provider_errc::first_byte_timeout ||
        ec == provider_errc::idle_timeout || ec == provider_errc::total_timeout || ec == engine::routing_errc::deadline_exceeded)
        return {http::status::gateway_timeout, "timeout_error", "upstream_timeout"};
    if (ec == engine::routing_errc::no_candidates || ec == engine::routing_errc::all_candidates_skipped ||
        ec == provider_errc::unavailable || ec == provider_errc::overloaded)
        return {http::status::service_unavailable, "service_unavailable", "upstream_unavailable"};
    if (ec == boost::asio::error::operation_aborted)
        return {http::status::service_unavailable, "api_error", "cancelled"};
    return {http::status::bad_gateway, "upstream_error", "upstream_error"};
}

std::string finish_reason_name(pv::finish_reason r)
{
    switch (r)
    {
    case pv::finish_reason::length: return "length";
    case pv::finish_reason::tool_calls: return "tool_calls";
    case pv::finish_reason::content_filter: return "content_filter";
    default: return "stop";
    }
}

json usage_json(const pv::usage& u)
{
    json j = {{"prompt_tokens", u.input_tokens},
              {"completion_tokens", u.output_tokens},
              {"total_tokens", u.input_tokens + u.output_tokens}};
    if (u.cached_input_tokens > 0)
        j["prompt_tokens_details"] = {{"cached_tokens", u.cached_input_tokens}};
    return j;
}

json completion_json(const std::string& id, std::int64_t created, const std::string& model, const pv::chat_response& r)
{
    json message = {{"role", "assistant"},
                    {"content", r.text.empty() && !r.tool_calls.empty() ? json(nullptr) : json(r.text)},
                    {"refusal", nullptr}};
    if (!r.tool_calls.empty())
    {
        json calls = json::array();
        for (const auto& c : r.tool_calls)
            calls.push_back({{"id", c.id},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.arguments.empty() ? "{}" : c.arguments}}}});
        message["tool_calls"] = std::move(calls);
    }
    return {{"id", id},
            {"object", "chat.completion"},
            {"created", created},
            {"model", model},
            {"choices",
             json::array({{{"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr},
                           {"finish_reason", finish_reason_name(r.reason)}}})},
            {"usage", usage_json(r.totals)}};
}

chunk_writer::chunk_writer(std::string id, std::int64_t created, std::string model, bool include_usage)
    : id_(std::move(id)), created_(created), model_(std::move(model)), include_usage_(include_usage)
{
}

json chunk_writer::chunk(json delta, json finish) const
{
    json c = {{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", created_},
              {"model", model_},
              {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                        {"finish_reason", std::move(finish)}}})}};
    if (include_usage_)
        c["usage"] = nullptr;
    return c;
}

json chunk_writer::role_chunk() const { return chunk({{"role", "assistant"}, {"content", ""}}, nullptr); }

std::optional<json> chunk_writer::event_chunk(const pv::stream_event& ev)
{
    if (const auto* t = std::get_if<pv::text_delta_event>(&ev))
    {
        if (t->text.empty())
            return std::nullopt;
        return chunk({{"content", t->text}}, nullptr);
    }
    if (const auto* d = std::get_if<pv::tool_call_delta_event>(&ev))
    {
        json call = {{"index", d->index}, {"function", {{"arguments", d->arguments_fragment}}}};
        if (!tool_calls_[d->index])
        {
            tool_calls_[d->index] = true;
            call["id"] = d->id;
            call["type"] = "function";
            call["function"]["name"] = d->name;
        }
        return chunk({{"tool_calls", json::array({std::move(call)})}}, nullptr);
    }
    if (const auto* c = std::get_if<pv::tool_call_complete_event>(&ev))
    {
        // Only a call no delta announced (a provider that sends whole calls) needs a chunk.
        if (tool_calls_[c->index])
            return std::nullopt;
        tool_calls_[c->index] = true;
        return chunk({{"tool_calls", json::array({{{"index", c->index},
                                                   {"id", c->call.id},
                                                   {"type", "function"},
                                                   {"function", {{"name", c->call.name}, {"arguments", c->call.arguments}}}}})}},
                     nullptr);
    }
    return std::nullopt;
}

json chunk_writer::finish_chunk(pv::finish_reason reason) const { return chunk(json::object(), finish_reason_name(reason)); }

json chunk_writer::usage_chunk(const pv::usage& u) const
{
    return {{"id", id_},
            {"object", "chat.completion.chunk"},
            {"created", created_},
            {"model", model_},
            {"choices", json::array()},
            {"usage", usage_json(u)}};
}

}  // namespace ep::server
