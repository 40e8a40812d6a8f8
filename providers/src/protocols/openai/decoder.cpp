// Chat Completions chunk stream: data-only SSE of chat.completion.chunk objects, `[DONE]`
// sentinel (OpenAI API reference: the chat completion chunk object).
#include "protocols/common/json_scan.hpp"
#include "protocols/common/sse_decoder_base.hpp"
#include "protocols/common/tool_call_accumulator.hpp"
#include "protocols/openai/fast_chunk.hpp"
#include "protocols/openai/openai.hpp"

namespace ep::providers::sansio {

namespace {

class openai_decoder final : public sse_decoder_base
{
public:
    explicit openai_decoder(bool fast_path) : fast_path_(fast_path) {}
    bool content_started() const noexcept override { return started_; }

protected:
    boost::system::error_code on_event(const sse_event& ev) override;
    boost::system::error_code on_end() override;

private:
    boost::system::error_code on_chunk(const json& j);
    void on_delta(const json& delta);
    void on_tool_delta(const json& tc, std::size_t position);
    bool try_fast_chunk(const sse_event& ev);
    void finalize();

    bool fast_path_;
    tool_call_accumulator tools_;
    usage totals_;
    bool finish_seen_ = false;
    bool started_ = false;
    std::string raw_finish_;
};

boost::system::error_code openai_decoder::on_event(const sse_event& ev)
{
    if (done_)
        return {};
    if (ev.data == "[DONE]")
    {
        finalize();
        return {};
    }
    if (try_fast_chunk(ev))
        return {};
    auto j = parse_json(ev.data);
    if (j.is_discarded())
        return malformed("openai: an SSE data event is not valid JSON", ev.data);

    // Errors after the 200: `event: error`, {"error":{…}}, or vLLM's {"object":"error",…}.
    auto const* err = member(j, "error");
    if (ev.event == "error" || (err && !err->is_null()) || string_or(j, "object") == "error")
    {
        json obj = err && err->is_object() ? *err
                   : err && err->is_string() ? json{{"message", *err}}
                                             : j;
        auto ec = classify_error_object(openai_errors(), std::nullopt, obj, *diag_);
        diag_->message = "openai: error event inside the stream";
        return ec;
    }
    if (!j.is_object())
        return malformed("openai: an SSE data event is not a JSON object", ev.data);
    return on_chunk(j);
}

// The plain content delta, decoded without building a DOM (openai_fast_chunk.hpp). False
// when the chunk needs the full parse; nothing has been emitted then.
bool openai_decoder::try_fast_chunk(const sse_event& ev)
{
    openai_fast_chunk chunk;
    if (!fast_path_ || ev.event == "error" || !scan_openai_fast_chunk(ev.data, chunk))
        return false;
    if (!chunk.content.empty())  // as the full parse, an empty delta emits nothing
    {
        started_ = true;
        text_delta_event e;
        if (chunk.escaped)
            append_unescaped(chunk.content, e.text);
        else
            e.text.assign(chunk.content);
        out_->emplace_back(std::move(e));
    }
    return true;
}

boost::system::error_code openai_decoder::on_chunk(const json& j)
{
    // choices can be [] (the usage chunk): never index it blindly. Only choice 0 is used (n=1).
    if (auto const* choices = member(j, "choices"); choices && choices->is_array())
        for (auto const& choice : *choices)
        {
            if (auto idx = int_member(choice, "index"); idx && *idx != 0)
                continue;
            if (auto const* delta = member(choice, "delta"))
                on_delta(*delta);
            if (auto const* fr = string_member(choice, "finish_reason"))
            {
                started_ = true;
                finish_seen_ = true;
                raw_finish_ = *fr;
                tools_.complete_all(*out_);  // the calls are whole once the choice finished
            }
        }

    if (auto const* u = member(j, "usage"); u && u->is_object())
    {
        totals_.input_tokens = count_member(*u, "prompt_tokens").value_or(0);
        totals_.output_tokens = count_member(*u, "completion_tokens").value_or(0);
        if (auto const* details = member(*u, "prompt_tokens_details"))
            totals_.cached_input_tokens = count_member(*details, "cached_tokens").value_or(0);
        if (auto const* details = member(*u, "completion_tokens_details"))
            totals_.reasoning_tokens = count_member(*details, "reasoning_tokens").value_or(0);
    }
    return {};
}

void openai_decoder::on_delta(const json& delta)
{
    auto emit = [&](const char* key, bool answer) {
        if (auto const* text = string_member(delta, key); text && !text->empty())
        {
            started_ = true;
            if (answer)
                out_->emplace_back(text_delta_event{*text});
            else
                out_->emplace_back(reasoning_delta_event{*text});
        }
    };
    emit("content", true);
    emit("refusal", true);
    // Compatible servers stream thinking: reasoning_content (vLLM, DeepSeek), reasoning (Ollama).
    emit("reasoning_content", false);
    emit("reasoning", false);
    if (auto const* calls = member(delta, "tool_calls"); calls && calls->is_array())
        for (std::size_t i = 0; i < calls->size(); ++i)
        {
            started_ = true;
            on_tool_delta((*calls)[i], i);
        }
}

void openai_decoder::on_tool_delta(const json& tc, std::size_t position)
{
    auto wire_index = int_member(tc, "index").value_or(static_cast<std::int64_t>(position));
    auto id = string_or(tc, "id");
    auto const* fn = member(tc, "function");
    auto name = fn ? string_or(*fn, "name") : std::string();
    std::string args;
    if (auto const* a = fn ? member(*fn, "arguments") : nullptr)
        args = a->is_string() ? a->get<std::string>() : a->is_null() ? std::string() : a->dump();

    int ordinal = tools_.find(wire_index);
    // A new id on a known index is a new call (servers that send whole calls all at index 0).
    if (ordinal >= 0 && !id.empty() && !tools_.call(ordinal).id.empty() && tools_.call(ordinal).id != id)
    {
        tools_.complete(ordinal, *out_);
        ordinal = -1;
    }
    if (ordinal < 0)
        ordinal = tools_.start(wire_index, id, name);
    else
    {
        if (tools_.call(ordinal).id.empty())
            tools_.call(ordinal).id = id;
        if (tools_.call(ordinal).name.empty())
            tools_.call(ordinal).name = name;
    }
    tools_.append(ordinal, args);
    out_->emplace_back(tool_call_delta_event{ordinal, std::move(id), std::move(name), std::move(args)});
}

void openai_decoder::finalize()
{
    tools_.complete_all(*out_);
    out_->emplace_back(usage_event{totals_});
    auto reason = map_openai_finish(raw_finish_);
    // Some compatible servers say "stop" even though they returned tool calls.
    if (!tools_.empty() && (reason == finish_reason::stop || raw_finish_.empty()))
        reason = finish_reason::tool_calls;
    out_->emplace_back(finish_event{reason, raw_finish_});
    done_ = true;
}

boost::system::error_code openai_decoder::on_end()
{
    // Compatible servers may omit [DONE]: a clean end after the finish chunk is complete.
    if (finish_seen_ && parser_.at_event_boundary())
    {
        finalize();
        return {};
    }
    return truncated(finish_seen_ ? "openai: the stream ended inside an event"
                                  : "openai: the stream ended without a finish_reason or [DONE]");
}

}  // namespace

std::unique_ptr<stream_decoder> make_openai_decoder() { return std::make_unique<openai_decoder>(true); }

std::unique_ptr<stream_decoder> make_openai_decoder_full_parse() { return std::make_unique<openai_decoder>(false); }

}  // namespace ep::providers::sansio
