// Anthropic Messages, server side (Anthropic docs: Streaming Messages): named events message_start →
// content_block_start/delta/stop → message_delta (stop_reason, cumulative usage) →
// message_stop, with `ping` events; no [DONE].

#include "wire_protocol.hpp"

namespace ep::emulator::detail {

namespace {

using json = nlohmann::json;

class anthropic_protocol final : public wire_protocol
{
public:
    explicit anthropic_protocol(int ping_every) : ping_every_(ping_every) {}

    std::string_view name() const noexcept override { return "anthropic"; }
    std::string id_prefix() const override { return "msg_emu"; }

    bool parse(const json& body, chat_call& call, std::string& error) const override
    {
        if (!body.is_object() || !body.contains("model") || !body["model"].is_string())
            return (error = "model: Field required", false);
        if (!body.contains("max_tokens"))
            return (error = "max_tokens: Field required", false);
        if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
            return (error = "messages: at least one message is required", false);
        call.model = body["model"].get<std::string>();
        call.stream = body.value("stream", false);
        if (body.contains("system"))
        {
            call.system = content_text(body["system"]);
            call.input_chars += text_chars(body["system"]);
        }
        for (const auto& m : body["messages"])
        {
            if (!m.is_object() || !m.contains("role") || !m.contains("content"))
                return (error = "messages: each message needs 'role' and 'content'", false);
            call.input_chars += text_chars(m["content"]);
            if (m["role"] == "user")
                call.last_user_text = content_text(m["content"]);
        }
        const auto& last = body["messages"].back();
        if (last["role"] == "user" && last["content"].is_array())
            for (const auto& block : last["content"])
                if (block.is_object() && block.value("type", "") == "tool_result")
                {
                    call.last_is_tool_result = true;
                    if (block.contains("content"))
                        call.tool_result_text += content_text(block["content"]);
                }

        if (body.contains("tools") && body["tools"].is_array())
            for (const auto& t : body["tools"])
                if (t.is_object() && t.contains("name") && t["name"].is_string())
                    call.tools.push_back({t["name"].get<std::string>(), t.value("input_schema", json())});
        if (body.contains("tool_choice") && body["tool_choice"].is_object())
        {
            auto type = body["tool_choice"].value("type", "auto");
            if (type == "none")
                call.tools_disabled = true;
            else if (type == "tool")
                call.forced_tool = body["tool_choice"].value("name", "");
        }
        // Structured outputs (output_format / output_config.format), else the classic way:
        // a system prompt that demands JSON.
        for (const auto* holder : {&body, body.contains("output_config") ? &body["output_config"] : nullptr})
        {
            if (!holder || !holder->is_object())
                continue;
            for (const char* key : {"output_format", "format"})
                if (holder->contains(key) && (*holder)[key].is_object() &&
                    (*holder)[key].value("type", "") == "json_schema")
                {
                    call.json_mode = true;
                    call.json_schema = (*holder)[key].value("schema", json());
                }
        }
        parse_thinking(body, call);
        note_cache_prefix(body, call);
        if (call.reasoning && !check_thinking_round_trip(body["messages"], error))
            return false;
        if (call.system.find("JSON") != std::string::npos)
            call.json_mode = true;
        // The classic way often carries the schema too, as the system prompt's last part
        // (EP's own encoder does this): answer with an object that validates against it.
        if (call.json_mode && call.json_schema.is_null())
        {
            constexpr std::string_view marker = "JSON Schema:";
            if (const auto at = call.system.rfind(marker); at != std::string::npos)
            {
                auto schema = json::parse(call.system.substr(at + marker.size()), nullptr, /*allow_exceptions=*/false);
                if (schema.is_object())
                    call.json_schema = std::move(schema);
            }
        }
        return true;
    }

    reply respond(const chat_call& call, const answer& a, ending end, const response_ids& ids) const override
    {
        std::string stop = a.tool_call ? "tool_use" : "end_turn";
        std::string text = a.text;
        if (end == ending::content_filter && !a.tool_call)
        {
            stop = "refusal";
            text = filtered_prefix(text);
        }
        // Thinking tokens are output tokens; cached prompt tokens are not input_tokens.
        int output_tokens =
            (end == ending::content_filter ? estimate_tokens(text.size()) : a.output_tokens) + a.reasoning_tokens;
        json usage = {{"input_tokens", a.input_tokens - a.cache_read_tokens - a.cache_creation_tokens},
                      {"cache_creation_input_tokens", a.cache_creation_tokens},
                      {"cache_read_input_tokens", a.cache_read_tokens},
                      {"output_tokens", output_tokens},
                      {"service_tier", "standard"}};
        reply r;
        r.headers.emplace_back("request-id", "req_" + ids.id.substr(id_prefix().size()));
        if (!call.stream)
        {
            json content = json::array();
            if (!a.thinking.empty())
                content.push_back({{"type", "thinking"}, {"thinking", a.thinking}, {"signature", thinking_signature(a.thinking)}});
            if (a.tool_call)
                content.push_back({{"type", "tool_use"},
                                   {"id", "toolu_" + a.tool_call->id},
                                   {"name", a.tool_call->name},
                                   {"input", a.tool_call->arguments}});
            else
                content.push_back({{"type", "text"}, {"text", text}});
            r.body = dump({{"id", ids.id},
                           {"type", "message"},
                           {"role", "assistant"},
                           {"model", call.model},
                           {"content", content},
                           {"stop_reason", stop},
                           {"stop_sequence", nullptr},
                           {"usage", usage}});
            return r;
        }

        r.sse = true;
        json start_usage = usage;
        start_usage["output_tokens"] = 1;
        r.events.push_back({frame({{"type", "message_start"},
                                   {"message",
                                    {{"id", ids.id},
                                     {"type", "message"},
                                     {"role", "assistant"},
                                     {"model", call.model},
                                     {"content", json::array()},
                                     {"stop_reason", nullptr},
                                     {"stop_sequence", nullptr},
                                     {"usage", start_usage}}}},
                                  "message_start")});
        int index = 0;
        if (!a.thinking.empty())
            stream_thinking(r, a.thinking, index++);
        json block = a.tool_call ? json{{"type", "tool_use"},
                                        {"id", "toolu_" + a.tool_call->id},
                                        {"name", a.tool_call->name},
                                        {"input", json::object()}}
                                 : json{{"type", "text"}, {"text", ""}};
        r.events.push_back({frame({{"type", "content_block_start"}, {"index", index}, {"content_block", block}},
                                  "content_block_start"),
                            false, false, true});
        r.events.push_back({ping()});
        auto pieces = content_pieces(a.tool_call ? dump(a.tool_call->arguments) : text);
        if (a.tool_call)
            pieces.insert(pieces.begin(), std::string());  // the real server opens with ""
        int n = 0;
        for (const auto& piece : pieces)
        {
            json delta = a.tool_call ? json{{"type", "input_json_delta"}, {"partial_json", piece}}
                                     : json{{"type", "text_delta"}, {"text", piece}};
            r.events.push_back(
                {frame({{"type", "content_block_delta"}, {"index", index}, {"delta", delta}}, "content_block_delta"),
                 true, false});
            if (ping_every_ > 0 && ++n % ping_every_ == 0)
                r.events.push_back({ping()});
        }
        r.events.push_back({frame({{"type", "content_block_stop"}, {"index", index}}, "content_block_stop")});
        r.events.push_back({frame({{"type", "message_delta"},
                                   {"delta", {{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                                   {"usage", {{"output_tokens", output_tokens}}}},
                                  "message_delta")});
        r.events.push_back({frame({{"type", "message_stop"}}, "message_stop"), false, true});
        return r;
    }

    reply error(unsigned status, error_reason reason, std::string_view message) const override
    {
        std::string type;
        std::string text(message);
        switch (status)
        {
        case 400: type = "invalid_request_error"; break;
        case 401: type = "authentication_error"; break;
        case 402: type = "billing_error"; break;
        case 403: type = "permission_error"; break;
        case 404: type = "not_found_error"; break;
        case 409: type = "conflict_error"; break;
        case 413: type = "request_too_large"; break;
        case 429: type = "rate_limit_error"; break;
        case 504: type = "timeout_error"; break;
        case 529: type = "overloaded_error"; break;
        default: type = status < 500 ? "invalid_request_error" : "api_error"; break;
        }
        if (reason == error_reason::context_length)
        {
            type = "invalid_request_error";
            text = "prompt is too long: 210000 tokens > 200000 maximum";
        }
        reply r;
        r.status = status;
        r.headers.emplace_back("request-id", "req_emu_error");
        if (status == 529 || status >= 500)
            r.headers.emplace_back("x-should-retry", "true");
        r.body = dump({{"type", "error"}, {"error", {{"type", type}, {"message", text}}}, {"request_id", "req_emu_error"}});
        return r;
    }

    std::string overloaded_event() const override
    {
        return frame({{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}, "error");
    }

    std::string malformed_event() const override
    {
        return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\n\n";
    }

private:
    static std::string ping() { return "event: ping\ndata: {\"type\": \"ping\"}\n\n"; }

    // thinking {type: enabled, budget_tokens} (older models) or {type: adaptive} with
    // output_config.effort.
    static void parse_thinking(const json& body, chat_call& call)
    {
        if (!body.contains("thinking") || !body["thinking"].is_object())
            return;
        const auto type = body["thinking"].value("type", "");
        if (type == "enabled")
            call.reasoning = std::to_string(body["thinking"].value("budget_tokens", 1024));
        else if (type == "adaptive")
        {
            call.reasoning = "high";  // the default effort
            if (body.contains("output_config") && body["output_config"].is_object())
                call.reasoning = body["output_config"].value("effort", "high");
        }
    }

    // With thinking on, the assistant turn that made a tool call must come back starting with
    // its thinking block, signature intact, or the API answers 400.
    static bool check_thinking_round_trip(const json& messages, std::string& error)
    {
        for (std::size_t i = messages.size(); i-- > 0;)
        {
            const auto& m = messages[i];
            if (m.value("role", "") != "assistant" || !m["content"].is_array())
                continue;
            bool calls_tool = false;
            for (const auto& b : m["content"])
                calls_tool |= b.is_object() && b.value("type", "") == "tool_use";
            if (!calls_tool)
                return true;
            const auto& first = m["content"].front();
            const auto first_type = first.is_object() ? first.value("type", "") : std::string();
            if (first_type == "redacted_thinking")
                return true;
            if (first_type != "thinking")
                return (error = "messages." + std::to_string(i) +
                                ".content.0.type: Expected `thinking` or `redacted_thinking`, but found `" +
                                first_type + "`. When `thinking` is enabled, a final `assistant` message must start "
                                             "with a thinking block.",
                        false);
            if (first.value("signature", "") != thinking_signature(first.value("thinking", "")))
                return (error = "messages." + std::to_string(i) + ".content.0: Invalid `signature` in `thinking` block",
                        false);
            return true;
        }
        return true;
    }

    // Prompt caching: everything up to the last block marked cache_control, in the order the
    // API caches it (tools, system, messages).
    static void note_cache_prefix(const json& body, chat_call& call)
    {
        std::string prefix;
        std::size_t marked = 0;
        auto take = [&](const json& block) {
            prefix += block.is_string() ? block.get<std::string>() : dump(block);
            if (block.is_object() && block.contains("cache_control"))
                marked = prefix.size();
        };
        for (const char* key : {"tools", "system"})
            if (body.contains(key))
            {
                if (body[key].is_array())
                    for (const auto& b : body[key])
                        take(b);
                else
                    take(body[key]);
            }
        for (const auto& m : body["messages"])
        {
            prefix += m.value("role", "");
            if (m["content"].is_array())
                for (const auto& b : m["content"])
                    take(b);
            else
                take(m["content"]);
        }
        if (marked == 0)
            return;
        call.cached_prefix_chars = marked;
        call.cached_prefix_hash = stable_hash(std::string_view(prefix).substr(0, marked));
    }

    void stream_thinking(reply& r, const std::string& thinking, int index) const
    {
        r.events.push_back({frame({{"type", "content_block_start"},
                                   {"index", index},
                                   {"content_block", {{"type", "thinking"}, {"thinking", ""}}}},
                                  "content_block_start"),
                            false, false, true});
        for (const auto& piece : content_pieces(thinking))
            r.events.push_back({frame({{"type", "content_block_delta"},
                                       {"index", index},
                                       {"delta", {{"type", "thinking_delta"}, {"thinking", piece}}}},
                                      "content_block_delta"),
                                true, false});
        r.events.push_back({frame({{"type", "content_block_delta"},
                                   {"index", index},
                                   {"delta", {{"type", "signature_delta"}, {"signature", thinking_signature(thinking)}}}},
                                  "content_block_delta")});
        r.events.push_back({frame({{"type", "content_block_stop"}, {"index", index}}, "content_block_stop")});
    }

    int ping_every_;
};

}  // namespace

std::unique_ptr<wire_protocol> make_anthropic_protocol(int ping_every)
{
    return std::make_unique<anthropic_protocol>(ping_every);
}

}  // namespace ep::emulator::detail
