// OpenAI Responses API, server side (OpenAI API reference: Create a model response, and the
// streaming events): named SSE events whose data repeats the event type and carries a
// sequence_number; response.created → output items (reasoning, message or function_call)
// with their part/delta/done events → response.completed (or .incomplete / .failed). No
// [DONE].

#include "wire_protocol.hpp"

namespace ep::emulator::detail {

namespace {

using json = nlohmann::json;

// What parse() needs from one input item: its text for the answer and the usage estimate.
std::string item_text(const json& item)
{
    if (item.contains("content"))
        return content_text(item["content"]);
    if (item.contains("output") && item["output"].is_string())
        return item["output"].get<std::string>();
    return {};
}

class responses_protocol final : public wire_protocol
{
public:
    std::string_view name() const noexcept override { return "openai_responses"; }
    std::string id_prefix() const override { return "resp_emu"; }

    bool parse(const json& body, chat_call& call, std::string& error) const override
    {
        if (!body.is_object() || !body.contains("model") || !body["model"].is_string())
            return (error = "Missing required parameter: 'model'.", false);
        if (!body.contains("input") || !(body["input"].is_string() || body["input"].is_array()))
            return (error = "Missing required parameter: 'input'.", false);
        call.model = body["model"].get<std::string>();
        call.stream = body.value("stream", false);
        if (body.contains("instructions") && body["instructions"].is_string())
            call.system = body["instructions"].get<std::string>();
        call.input_chars += call.system.size();
        if (!parse_input(body["input"], call, error))
            return false;
        parse_tools(body, call);
        parse_format(body, call);
        if (body.contains("reasoning") && body["reasoning"].is_object())
        {
            call.reasoning = body["reasoning"].value("effort", "medium");
            if (body.contains("include") && body["include"].is_array())
                for (const auto& inc : body["include"])
                    call.include_encrypted_reasoning |= inc == "reasoning.encrypted_content";
        }
        if (call.reasoning)
            return check_reasoning_round_trip(body["input"], error);
        return true;
    }

    reply respond(const chat_call& call, const answer& a, ending end, const response_ids& ids) const override
    {
        std::string text = a.text;
        bool filtered = end == ending::content_filter && !a.tool_call;
        if (filtered)
            text = filtered_prefix(text);
        json output = json::array();
        if (!a.thinking.empty())
            output.push_back(reasoning_item(call, ids));
        output.push_back(a.tool_call ? call_item(a, ids, true) : message_item(text, ids, true));
        json response = response_object(call, ids, filtered ? "incomplete" : "completed", output, usage_of(a, text));
        if (filtered)
            response["incomplete_details"] = {{"reason", "content_filter"}};
        reply r;
        if (!call.stream)
        {
            r.body = dump(response);
            return r;
        }
        r.sse = true;
        stream_writer w{r};
        json created = response_object(call, ids, "in_progress", json::array(), nullptr);
        w.add("response.created", {{"response", created}});
        w.add("response.in_progress", {{"response", created}});
        int index = 0;
        if (!a.thinking.empty())
        {
            json item = output[0];
            json added = item;
            added.erase("encrypted_content");
            added["summary"] = json::array();
            w.add("response.output_item.added", {{"output_index", index}, {"item", added}});
            w.add("response.output_item.done", {{"output_index", index}, {"item", item}});
            ++index;
        }
        if (a.tool_call)
            stream_call(w, a, ids, index);
        else
            stream_message(w, text, ids, index);
        w.add(filtered ? "response.incomplete" : "response.completed", {{"response", response}}, false, true);
        return r;
    }

    reply error(unsigned status, error_reason reason, std::string_view message) const override
    {
        std::string type = status == 401 ? "invalid_request_error" : status == 429 ? "requests"
                           : status >= 500                          ? "server_error"
                                                                    : "invalid_request_error";
        json code = nullptr;
        std::string text(message);
        if (reason == error_reason::context_length)
        {
            code = "context_length_exceeded";
            text = "Your input exceeds the context window of this model. Please adjust your input and try again.";
        }
        else if (status == 401)
            code = "invalid_api_key";
        else if (status == 429)
            code = "rate_limit_exceeded";
        reply r;
        r.status = status;
        r.body = dump({{"error", {{"message", text}, {"type", type}, {"param", nullptr}, {"code", code}}}});
        return r;
    }

    std::string overloaded_event() const override
    {
        // A failed response: the terminal event a client must treat as an error.
        return frame({{"type", "response.failed"},
                      {"sequence_number", 999},
                      {"response",
                       {{"id", "resp_emu_failed"},
                        {"object", "response"},
                        {"status", "failed"},
                        {"error", {{"code", "server_error"}, {"message", "The server is overloaded (emulated)."}}},
                        {"output", json::array()}}}},
                     "response.failed");
    }

    std::string malformed_event() const override
    {
        return "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\n\n";
    }

private:
    /// Appends framed events with increasing sequence numbers.
    struct stream_writer
    {
        reply& r;
        int seq = 0;
        void add(const char* type, json data, bool content = false, bool terminal = false)
        {
            data["type"] = type;
            data["sequence_number"] = seq++;
            const bool opens = std::string_view(type) == "response.output_item.added";
            r.events.push_back({frame(data, type), content, terminal, opens});
        }
    };

    static bool parse_input(const json& input, chat_call& call, std::string& error)
    {
        if (input.is_string())
        {
            call.last_user_text = input.get<std::string>();
            call.input_chars += call.last_user_text.size();
            return true;
        }
        for (const auto& item : input)
        {
            if (!item.is_object())
                return (error = "Invalid 'input': each item must be an object.", false);
            const auto type = item.value("type", "message");
            const auto text = item_text(item);
            call.input_chars += text.size() + (item.contains("arguments") ? text_chars(item["arguments"]) : 0);
            if (type == "message")
            {
                const auto role = item.value("role", "user");
                if (role == "system" || role == "developer")
                    call.system += (call.system.empty() ? "" : "\n") + text;
                else if (role == "user")
                    call.last_user_text = text;
            }
            else if (type != "function_call" && type != "function_call_output" && type != "reasoning")
                return (error = "Invalid 'input': unknown item type '" + type + "'.", false);
        }
        const auto& last = input.back();
        call.last_is_tool_result = last.is_object() && last.value("type", "") == "function_call_output";
        if (call.last_is_tool_result)
            call.tool_result_text = item_text(last);
        return true;
    }

    static void parse_tools(const json& body, chat_call& call)
    {
        if (body.contains("tools") && body["tools"].is_array())
            for (const auto& t : body["tools"])
                if (t.is_object() && t.value("type", "") == "function" && t.contains("name"))
                    call.tools.push_back({t["name"].get<std::string>(), t.value("parameters", json())});
        if (!body.contains("tool_choice"))
            return;
        const auto& tc = body["tool_choice"];
        if (tc.is_string() && tc.get<std::string>() == "none")
            call.tools_disabled = true;
        else if (tc.is_object() && tc.contains("name"))
            call.forced_tool = tc["name"].get<std::string>();
    }

    static void parse_format(const json& body, chat_call& call)
    {
        if (!body.contains("text") || !body["text"].is_object() || !body["text"].contains("format"))
            return;
        const auto& f = body["text"]["format"];
        const auto type = f.is_object() ? f.value("type", "text") : std::string("text");
        if (type == "json_object" || type == "json_schema")
            call.json_mode = true;
        if (type == "json_schema" && f.contains("schema"))
            call.json_schema = f["schema"];
    }

    // Without server-side storage a function_call of a reasoning model must come back with
    // the reasoning item that preceded it, its encrypted content intact.
    static bool check_reasoning_round_trip(const json& input, std::string& error)
    {
        if (!input.is_array())
            return true;
        const json* previous_reasoning = nullptr;
        for (const auto& item : input)
        {
            const auto type = item.value("type", "message");
            if (type == "reasoning")
                previous_reasoning = &item;
            else if (type == "function_call")
            {
                if (!previous_reasoning)
                    return (error = "Item '" + item.value("call_id", std::string()) +
                                    "' of type 'function_call' was provided without its required 'reasoning' item.",
                            false);
                const auto id = previous_reasoning->value("id", std::string());
                if (previous_reasoning->value("encrypted_content", std::string()) != encrypted_for(id))
                    return (error = "The encrypted content of reasoning item '" + id + "' could not be verified.",
                            false);
            }
            else
                previous_reasoning = nullptr;
        }
        return true;
    }

    static std::string encrypted_for(const std::string& item_id) { return "emu-enc-" + item_id; }

    static json usage_of(const answer& a, const std::string& text)
    {
        const int out = (a.tool_call ? a.output_tokens : estimate_tokens(text.size())) + a.reasoning_tokens;
        return {{"input_tokens", a.input_tokens},
                {"input_tokens_details", {{"cached_tokens", 0}}},
                {"output_tokens", out},
                {"output_tokens_details", {{"reasoning_tokens", a.reasoning_tokens}}},
                {"total_tokens", a.input_tokens + out}};
    }

    static json response_object(const chat_call& call, const response_ids& ids, const char* status, json output,
                                json usage)
    {
        return {{"id", ids.id},
                {"object", "response"},
                {"created_at", ids.created},
                {"status", status},
                {"model", call.model},
                {"output", std::move(output)},
                {"error", nullptr},
                {"incomplete_details", nullptr},
                {"usage", std::move(usage)}};
    }

    static json reasoning_item(const chat_call& call, const response_ids& ids)
    {
        const std::string id = "rs_" + ids.id.substr(4);
        json item = {{"id", id}, {"type", "reasoning"}, {"summary", json::array()}};
        if (call.include_encrypted_reasoning)
            item["encrypted_content"] = encrypted_for(id);
        return item;
    }

    static json message_item(const std::string& text, const response_ids& ids, bool done)
    {
        return {{"id", "msg_" + ids.id.substr(4)},
                {"type", "message"},
                {"status", done ? "completed" : "in_progress"},
                {"role", "assistant"},
                {"content", done ? json::array({{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}}})
                                 : json::array()}};
    }

    static json call_item(const answer& a, const response_ids& ids, bool done)
    {
        return {{"id", "fc_" + ids.id.substr(4)},
                {"type", "function_call"},
                {"status", done ? "completed" : "in_progress"},
                {"call_id", "call_" + a.tool_call->id},
                {"name", a.tool_call->name},
                {"arguments", done ? dump(a.tool_call->arguments) : std::string()}};
    }

    static void stream_message(stream_writer& w, const std::string& text, const response_ids& ids, int index)
    {
        const json item = message_item(text, ids, false);
        const std::string item_id = item["id"];
        w.add("response.output_item.added", {{"output_index", index}, {"item", item}});
        json part = {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}};
        w.add("response.content_part.added",
              {{"item_id", item_id}, {"output_index", index}, {"content_index", 0}, {"part", part}});
        for (const auto& piece : content_pieces(text))
            w.add("response.output_text.delta",
                  {{"item_id", item_id}, {"output_index", index}, {"content_index", 0}, {"delta", piece}}, true);
        w.add("response.output_text.done",
              {{"item_id", item_id}, {"output_index", index}, {"content_index", 0}, {"text", text}});
        part["text"] = text;
        w.add("response.content_part.done",
              {{"item_id", item_id}, {"output_index", index}, {"content_index", 0}, {"part", part}});
        w.add("response.output_item.done", {{"output_index", index}, {"item", message_item(text, ids, true)}});
    }

    static void stream_call(stream_writer& w, const answer& a, const response_ids& ids, int index)
    {
        const json item = call_item(a, ids, false);
        const std::string item_id = item["id"];
        const std::string args = dump(a.tool_call->arguments);
        w.add("response.output_item.added", {{"output_index", index}, {"item", item}});
        for (const auto& piece : content_pieces(args))
            w.add("response.function_call_arguments.delta",
                  {{"item_id", item_id}, {"output_index", index}, {"delta", piece}}, true);
        w.add("response.function_call_arguments.done",
              {{"item_id", item_id}, {"output_index", index}, {"arguments", args}});
        w.add("response.output_item.done", {{"output_index", index}, {"item", call_item(a, ids, true)}});
    }
};

}  // namespace

std::unique_ptr<wire_protocol> make_responses_protocol()
{
    return std::make_unique<responses_protocol>();
}

}  // namespace ep::emulator::detail
