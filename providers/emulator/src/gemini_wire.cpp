// Gemini generateContent / streamGenerateContent?alt=sse, server side (Gemini API
// reference: models.streamGenerateContent):
// data-only events, each a partial GenerateContentResponse carrying only the new text,
// usageMetadata on every chunk, finishReason on the last, whole functionCall parts.

#include "wire_protocol.hpp"

namespace ep::emulator::detail {

namespace {

using json = nlohmann::json;

// The proto-JSON parser accepts both spellings.
const json* field(const json& obj, const char* camel, const char* snake)
{
    if (!obj.is_object())
        return nullptr;
    if (obj.contains(camel))
        return &obj[camel];
    if (obj.contains(snake))
        return &obj[snake];
    return nullptr;
}

std::string parts_text(const json& content)
{
    std::string out;
    if (auto* parts = field(content, "parts", "parts"); parts && parts->is_array())
        for (const auto& p : *parts)
            if (p.contains("text") && p["text"].is_string())
                out += p["text"].get<std::string>();
    return out;
}

class gemini_protocol final : public wire_protocol
{
public:
    explicit gemini_protocol(bool crlf) : eol_(crlf ? "\r\n" : "\n") {}

    std::string_view name() const noexcept override { return "gemini"; }
    std::string id_prefix() const override { return "emu"; }

    // call.model and call.stream come from the URL; the body has the rest.
    bool parse(const json& body, chat_call& call, std::string& error) const override
    {
        const json* contents = field(body, "contents", "contents");
        if (!contents || !contents->is_array() || contents->empty())
            return (error = "* GenerateContentRequest.contents: contents is not specified", false);
        if (auto* si = field(body, "systemInstruction", "system_instruction"))
        {
            call.system = parts_text(*si);
            call.input_chars += text_chars(*si);
        }
        for (const auto& c : *contents)
        {
            call.input_chars += text_chars(c);
            if (c.value("role", "user") == "user")
            {
                auto text = parts_text(c);
                if (!text.empty())
                    call.last_user_text = text;
            }
        }
        if (auto* parts = field(contents->back(), "parts", "parts"); parts && parts->is_array())
            for (const auto& p : *parts)
                if (auto* fr = field(p, "functionResponse", "function_response"))
                {
                    call.last_is_tool_result = true;
                    call.tool_result_text += fr->contains("response") ? dump((*fr)["response"]) : "";
                }

        if (auto* tools = field(body, "tools", "tools"); tools && tools->is_array())
            for (const auto& t : *tools)
                if (auto* decls = field(t, "functionDeclarations", "function_declarations"); decls && decls->is_array())
                    for (const auto& d : *decls)
                    {
                        const json* schema = field(d, "parametersJsonSchema", "parameters_json_schema");
                        if (!schema)
                            schema = field(d, "parameters", "parameters");
                        call.tools.push_back({d.value("name", ""), schema ? *schema : json()});
                    }
        if (auto* tc = field(body, "toolConfig", "tool_config"))
            if (auto* fcc = field(*tc, "functionCallingConfig", "function_calling_config"))
                if (fcc->value("mode", "AUTO") == "NONE")
                    call.tools_disabled = true;
        if (auto* gc = field(body, "generationConfig", "generation_config"))
        {
            if (auto* tc = field(*gc, "thinkingConfig", "thinking_config"); tc && tc->is_object())
                parse_thinking(*tc, call);
            auto* mime = field(*gc, "responseMimeType", "response_mime_type");
            if (mime && mime->is_string() && mime->get<std::string>() == "application/json")
            {
                call.json_mode = true;
                if (auto* s = field(*gc, "responseJsonSchema", "response_json_schema"))
                    call.json_schema = *s;
                else if (auto* s2 = field(*gc, "responseSchema", "response_schema"))
                    call.json_schema = *s2;
            }
        }
        if (call.reasoning && !check_signatures(*contents, error))
            return false;
        return true;
    }

    reply respond(const chat_call& call, const answer& a, ending end, const response_ids& ids) const override
    {
        std::string finish = "STOP";
        std::string text = a.text;
        if (end == ending::content_filter && !a.tool_call)
        {
            finish = "SAFETY";
            text = filtered_prefix(text);
        }
        int candidates_tokens = end == ending::content_filter ? estimate_tokens(text.size()) : a.output_tokens;
        auto chunk = [&](json parts, int so_far, bool last) {
            json usage = {{"promptTokenCount", a.input_tokens},
                          {"candidatesTokenCount", so_far},
                          {"totalTokenCount", a.input_tokens + so_far + a.reasoning_tokens}};
            if (a.reasoning_tokens > 0)
                usage["thoughtsTokenCount"] = a.reasoning_tokens;
            json candidate = {{"content", {{"parts", std::move(parts)}, {"role", "model"}}}, {"index", 0}};
            if (last)
            {
                candidate["finishReason"] = finish;
                if (finish == "SAFETY")
                    candidate["safetyRatings"] =
                        json::array({{{"category", "HARM_CATEGORY_DANGEROUS_CONTENT"},
                                      {"probability", "HIGH"},
                                      {"blocked", true}}});
            }
            return json{{"candidates", json::array({candidate})},
                        {"usageMetadata", usage},
                        {"modelVersion", call.model},
                        {"responseId", ids.id}};
        };
        json call_part;
        if (a.tool_call)
        {
            call_part = {{"functionCall", {{"name", a.tool_call->name}, {"args", a.tool_call->arguments}}}};
            if (call.reasoning)  // a thinking model signs its calls (Gemini 3)
                call_part["thoughtSignature"] = call_signature(call_part["functionCall"]);
        }
        // Thought summaries come first, marked thought: true (only when asked for).
        json thought_part;
        if (!a.thinking.empty() && call.include_thoughts)
            thought_part = {{"text", a.thinking}, {"thought", true}};

        reply r;
        if (!call.stream)
        {
            json parts = a.tool_call ? json::array({call_part}) : json::array({{{"text", text}}});
            if (!thought_part.is_null())
                parts.insert(parts.begin(), thought_part);
            r.body = dump(chunk(parts, candidates_tokens, true));
            return r;
        }
        r.sse = true;
        if (!thought_part.is_null())
            r.events.push_back({frame(chunk(json::array({thought_part}), 0, false), {}, eol_), true, false});
        if (a.tool_call)
        {
            // Function calls arrive whole, in one chunk, with finishReason STOP.
            r.events.push_back({frame(chunk(json::array({call_part}), candidates_tokens, true), {}, eol_), true, true});
            return r;
        }
        auto pieces = content_pieces(text);
        // Real chunks carry several tokens each; group pieces so the chunk count stays modest.
        constexpr std::size_t per_chunk = 4;
        std::string sent;
        for (std::size_t i = 0; i < pieces.size(); i += per_chunk)
        {
            std::string part;
            for (std::size_t j = i; j < pieces.size() && j < i + per_chunk; ++j)
                part += pieces[j];
            sent += part;
            bool last = i + per_chunk >= pieces.size();
            int so_far = last ? candidates_tokens : estimate_tokens(sent.size());
            r.events.push_back({frame(chunk(json::array({{{"text", part}}}), so_far, last), {}, eol_), true, last});
        }
        return r;
    }

    reply error(unsigned status, error_reason reason, std::string_view message) const override
    {
        std::string st;
        switch (status)
        {
        case 400: st = "INVALID_ARGUMENT"; break;
        case 401: st = "UNAUTHENTICATED"; break;
        case 403: st = "PERMISSION_DENIED"; break;
        case 404: st = "NOT_FOUND"; break;
        case 429: st = "RESOURCE_EXHAUSTED"; break;
        case 499: st = "CANCELLED"; break;
        case 500: st = "INTERNAL"; break;
        case 503: st = "UNAVAILABLE"; break;
        case 504: st = "DEADLINE_EXCEEDED"; break;
        default: st = status < 500 ? "FAILED_PRECONDITION" : "INTERNAL"; break;
        }
        std::string text(message);
        if (reason == error_reason::context_length)
        {
            st = "INVALID_ARGUMENT";
            text = "The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).";
        }
        reply r;
        r.status = status;
        r.body = dump({{"error", {{"code", status}, {"message", text}, {"status", st}}}});
        return r;
    }

    std::string overloaded_event() const override
    {
        return frame({{"error", {{"code", 503}, {"message", "The model is overloaded. Please try again later."},
                                 {"status", "UNAVAILABLE"}}}},
                     {}, eol_);
    }

    std::string malformed_event() const override
    {
        return "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + eol_ + eol_;
    }

private:
    // thinkingLevel (Gemini 3) or thinkingBudget (2.5; -1 = dynamic, 0 = off).
    static void parse_thinking(const json& tc, chat_call& call)
    {
        if (auto* level = field(tc, "thinkingLevel", "thinking_level"); level && level->is_string())
            call.reasoning = level->get<std::string>();
        else if (auto* budget = field(tc, "thinkingBudget", "thinking_budget"); budget && budget->is_number_integer())
        {
            if (budget->get<int>() != 0)
                call.reasoning = budget->get<int>() < 0 ? std::string("medium") : std::to_string(budget->get<int>());
        }
        if (auto* inc = field(tc, "includeThoughts", "include_thoughts"); inc && inc->is_boolean())
            call.include_thoughts = inc->get<bool>();
    }

    static std::string call_signature(const json& function_call)
    {
        return thinking_signature(function_call.value("name", "") + dump(function_call.value("args", json::object())));
    }

    // Gemini 3: every functionCall part of the current turn (since the last user text) must
    // come back with the thoughtSignature it was sent with, or the request is refused.
    static bool check_signatures(const json& contents, std::string& error)
    {
        std::size_t turn_start = 0;
        for (std::size_t i = 0; i < contents.size(); ++i)
            if (contents[i].value("role", "user") == "user" && !parts_text(contents[i]).empty())
                turn_start = i + 1;
        for (std::size_t i = turn_start; i < contents.size(); ++i)
        {
            auto* parts = field(contents[i], "parts", "parts");
            if (!parts || !parts->is_array())
                continue;
            for (std::size_t p = 0; p < parts->size(); ++p)
            {
                auto* fc = field((*parts)[p], "functionCall", "function_call");
                if (!fc)
                    continue;
                auto* sig = field((*parts)[p], "thoughtSignature", "thought_signature");
                if (!sig || !sig->is_string() || sig->get<std::string>() != call_signature(*fc))
                    return (error = "Function call is missing a thought_signature in functionCall parts. This is "
                                    "required for tools to work correctly (contents[" +
                                    std::to_string(i) + "].parts[" + std::to_string(p) + "])",
                            false);
            }
        }
        return true;
    }

    std::string eol_;
};

}  // namespace

std::unique_ptr<wire_protocol> make_gemini_protocol(bool crlf)
{
    return std::make_unique<gemini_protocol>(crlf);
}

}  // namespace ep::emulator::detail
