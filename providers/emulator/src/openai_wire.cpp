// OpenAI Chat Completions, server side (OpenAI API reference: the chat completion chunk
// object): data-only SSE of
// chat.completion.chunk objects, role chunk first, finish chunk with `delta:{}`, a usage chunk
// with `choices: []` when asked, then `data: [DONE]`.

#include "wire_protocol.hpp"

namespace ep::emulator::detail {

namespace {

using json = nlohmann::json;

class openai_protocol final : public wire_protocol
{
public:
    std::string_view name() const noexcept override { return "openai"; }
    std::string id_prefix() const override { return "chatcmpl-emu"; }

    bool parse(const json& body, chat_call& call, std::string& error) const override
    {
        if (!body.is_object() || !body.contains("model") || !body["model"].is_string())
            return (error = "'model' is required and must be a string", false);
        if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
            return (error = "'messages' must be a non-empty array", false);
        call.model = body["model"].get<std::string>();
        call.stream = body.value("stream", false);
        if (body.contains("stream_options") && body["stream_options"].is_object())
            call.include_usage = body["stream_options"].value("include_usage", false);

        for (const auto& m : body["messages"])
        {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
                return (error = "each message needs a string 'role'", false);
            auto role = m["role"].get<std::string>();
            auto text = m.contains("content") ? content_text(m["content"]) : std::string();
            call.input_chars += text_chars(m);
            if (role == "system" || role == "developer")
                call.system += (call.system.empty() ? "" : "\n") + text;
            else if (role == "user")
                call.last_user_text = text;
        }
        const auto& last = body["messages"].back();
        call.last_is_tool_result = last.value("role", "") == "tool";
        if (call.last_is_tool_result)
            call.tool_result_text = last.contains("content") ? content_text(last["content"]) : "";

        if (body.contains("tools") && body["tools"].is_array())
            for (const auto& t : body["tools"])
                if (t.is_object() && t.contains("function") && t["function"].contains("name"))
                    call.tools.push_back({t["function"]["name"].get<std::string>(),
                                          t["function"].value("parameters", json())});
        if (body.contains("tool_choice"))
        {
            const auto& tc = body["tool_choice"];
            if (tc.is_string() && tc.get<std::string>() == "none")
                call.tools_disabled = true;
            else if (tc.is_object() && tc.contains("function") && tc["function"].contains("name"))
                call.forced_tool = tc["function"]["name"].get<std::string>();
        }
        if (body.contains("reasoning_effort") && body["reasoning_effort"].is_string())
            call.reasoning = body["reasoning_effort"].get<std::string>();
        if (body.contains("response_format") && body["response_format"].is_object())
        {
            auto type = body["response_format"].value("type", "text");
            if (type == "json_object")
                call.json_mode = true;
            else if (type == "json_schema")
            {
                call.json_mode = true;
                const auto& js = body["response_format"].value("json_schema", json::object());
                if (js.is_object() && js.contains("schema"))
                    call.json_schema = js["schema"];
            }
        }
        return true;
    }

    reply respond(const chat_call& call, const answer& a, ending end, const response_ids& ids) const override
    {
        std::string finish = a.tool_call ? "tool_calls" : "stop";
        std::string text = a.text;
        if (end == ending::content_filter && !a.tool_call)
        {
            finish = "content_filter";
            text = filtered_prefix(text);
        }
        // Reasoning is not streamed by Chat Completions: only its tokens show, inside
        // completion_tokens.
        int completion_tokens =
            (end == ending::content_filter ? estimate_tokens(text.size()) : a.output_tokens) + a.reasoning_tokens;
        json usage = {{"prompt_tokens", a.input_tokens},
                      {"completion_tokens", completion_tokens},
                      {"total_tokens", a.input_tokens + completion_tokens},
                      {"prompt_tokens_details", {{"cached_tokens", 0}}},
                      {"completion_tokens_details", {{"reasoning_tokens", a.reasoning_tokens}}}};
        reply r;
        if (!call.stream)
        {
            json message = {{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}};
            if (a.tool_call)
                message["tool_calls"] = json::array({{{"id", "call_" + a.tool_call->id},
                                                      {"type", "function"},
                                                      {"function",
                                                       {{"name", a.tool_call->name},
                                                        {"arguments", dump(a.tool_call->arguments)}}}}});
            else
                message["content"] = text;
            json body = {{"id", ids.id},
                         {"object", "chat.completion"},
                         {"created", ids.created},
                         {"model", call.model},
                         {"system_fingerprint", "fp_ep_emulator"},
                         {"choices", json::array({{{"index", 0},
                                                   {"message", message},
                                                   {"logprobs", nullptr},
                                                   {"finish_reason", finish}}})},
                         {"usage", usage}};
            r.body = dump(body);
            return r;
        }

        r.sse = true;
        auto chunk = [&](json delta, json finish_reason) {
            return json{{"id", ids.id},
                        {"object", "chat.completion.chunk"},
                        {"created", ids.created},
                        {"model", call.model},
                        {"system_fingerprint", "fp_ep_emulator"},
                        {"choices", json::array({{{"index", 0},
                                                  {"delta", std::move(delta)},
                                                  {"logprobs", nullptr},
                                                  {"finish_reason", std::move(finish_reason)}}})},
                        {"usage", nullptr}};
        };
        if (a.tool_call)
        {
            // As captured from the real server: the first fragment carries id, type, name and
            // empty arguments together with the role; then argument fragments by index.
            json first = {{"role", "assistant"},
                          {"content", nullptr},
                          {"refusal", nullptr},
                          {"tool_calls", json::array({{{"index", 0},
                                                       {"id", "call_" + a.tool_call->id},
                                                       {"type", "function"},
                                                       {"function", {{"name", a.tool_call->name}, {"arguments", ""}}}}})}};
            r.events.push_back({frame(chunk(first, nullptr)), false, false});
            for (const auto& piece : content_pieces(dump(a.tool_call->arguments)))
            {
                json delta = {{"tool_calls", json::array({{{"index", 0}, {"function", {{"arguments", piece}}}}})}};
                r.events.push_back({frame(chunk(delta, nullptr)), true, false});
            }
        }
        else
        {
            r.events.push_back(
                {frame(chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr)), false, false});
            for (const auto& piece : content_pieces(text))
                r.events.push_back({frame(chunk({{"content", piece}}, nullptr)), true, false});
        }
        r.events.push_back({frame(chunk(json::object(), finish)), false, false});
        if (call.include_usage)
        {
            json u = {{"id", ids.id},
                      {"object", "chat.completion.chunk"},
                      {"created", ids.created},
                      {"model", call.model},
                      {"system_fingerprint", "fp_ep_emulator"},
                      {"choices", json::array()},
                      {"usage", usage}};
            r.events.push_back({frame(u), false, false});
        }
        r.events.push_back({"data: [DONE]\n\n", false, true});
        return r;
    }

    reply error(unsigned status, error_reason reason, std::string_view message) const override
    {
        std::string type = "invalid_request_error";
        json code = nullptr;
        json param = nullptr;
        std::string text(message);
        switch (reason)
        {
        case error_reason::context_length:
            code = "context_length_exceeded";
            param = "messages";
            text = "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                   "131072 tokens. Please reduce the length of the messages.";
            break;
        case error_reason::not_found: code = "model_not_found"; break;
        case error_reason::bad_request: break;
        case error_reason::status:
            if (status == 401)
                code = "invalid_api_key";
            else if (status == 429)
            {
                type = "requests";
                code = "rate_limit_exceeded";
            }
            else if (status >= 500)
                type = "server_error";
            break;
        }
        reply r;
        r.status = status;
        r.body = dump({{"error", {{"message", text}, {"type", type}, {"param", param}, {"code", code}}}});
        return r;
    }

    std::string overloaded_event() const override
    {
        return frame({{"error",
                       {{"message", "The server is overloaded (emulated)."},
                        {"type", "server_error"},
                        {"param", nullptr},
                        {"code", "server_overloaded"}}}});
    }

    std::string malformed_event() const override { return "data: {\"id\":\"chatcmpl-emu\",\"choices\":[{\"delta\":\n\n"; }
};

}  // namespace

std::unique_ptr<wire_protocol> make_openai_protocol()
{
    return std::make_unique<openai_protocol>();
}

}  // namespace ep::emulator::detail
