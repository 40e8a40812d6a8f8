// Responses API stream: named SSE events whose data carries the same `type`; each event
// belongs to an output item (message, function_call, reasoning) by `output_index`.
#include "protocols/common/fast_text.hpp"
#include "protocols/common/sse_decoder_base.hpp"
#include "protocols/common/tool_call_accumulator.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

namespace ep::providers::sansio {

namespace {

class responses_decoder final : public sse_decoder_base
{
public:
    explicit responses_decoder(bool fast_path) : fast_path_(fast_path) {}
    bool content_started() const noexcept override { return started_; }

protected:
    boost::system::error_code on_event(const sse_event& ev) override;
    boost::system::error_code on_end() override
    {
        return truncated("openai_responses: the stream ended without response.completed, .incomplete or .failed");
    }

private:
    void on_item_added(const json& j);
    void on_item_done(const json& j);
    void on_arguments(const json& j, bool done);
    void finalize(const json& response, finish_reason reason, std::string raw);
    boost::system::error_code failure(const json& error, const char* what);

    bool fast_path_;
    tool_call_accumulator tools_;
    bool refused_ = false;
    bool started_ = false;
};

std::string text_member(const json& j, std::string_view key)
{
    auto const* s = string_member(j, key);
    return s ? *s : std::string();
}

boost::system::error_code responses_decoder::on_event(const sse_event& ev)
{
    if (done_ || ev.data == "[DONE]")
        return {};  // a proxy may add [DONE]; before a terminal event on_end says truncated
    if (fast_path_ && ev.event == "response.output_text.delta")
    {
        fast_text text;  // the plain text delta without a DOM (fast_text.hpp)
        if (scan_responses_text_delta(ev.data, text))
        {
            if (!text.empty())
                out_->emplace_back(text_delta_event{text.decoded()});
            return {};
        }
    }
    auto j = parse_json(ev.data);
    if (j.is_discarded() || !j.is_object())
        return malformed("openai_responses: an SSE data event is not a JSON object", ev.data);
    const std::string type = ev.event.empty() || ev.event == "message" ? text_member(j, "type") : ev.event;

    if (type == "response.output_text.delta" || type == "response.refusal.delta")
    {
        refused_ |= type == "response.refusal.delta";
        if (auto delta = text_member(j, "delta"); !delta.empty())
            out_->emplace_back(text_delta_event{std::move(delta)});
    }
    else if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta")
    {
        if (auto delta = text_member(j, "delta"); !delta.empty())
            out_->emplace_back(reasoning_delta_event{std::move(delta)});
    }
    else if (type == "response.output_item.added")
        on_item_added(j);
    else if (type == "response.function_call_arguments.delta")
        on_arguments(j, false);
    else if (type == "response.function_call_arguments.done")
        on_arguments(j, true);
    else if (type == "response.output_item.done")
        on_item_done(j);
    else if (type == "response.completed" || type == "response.incomplete")
    {
        auto const* response = member(j, "response");
        const json& r = response ? *response : j;
        if (type == "response.completed")
            finalize(r, refused_ ? finish_reason::content_filter : finish_reason::stop, "completed");
        else
        {
            std::string why;
            if (auto const* details = member(r, "incomplete_details"))
                why = text_member(*details, "reason");
            finalize(r,
                     why == "max_output_tokens"  ? finish_reason::length
                     : why == "content_filter" ? finish_reason::content_filter
                                               : finish_reason::other,
                     why.empty() ? "incomplete" : why);
        }
    }
    else if (type == "response.failed")
    {
        auto const* response = member(j, "response");
        auto const* error = response ? member(*response, "error") : nullptr;
        return failure(error ? *error : json::object(), "openai_responses: the response failed");
    }
    else if (type == "error")
        return failure(j, "openai_responses: error event inside the stream");
    // response.created, .in_progress, content_part.*, output_text.done, …: nothing to emit.
    return {};
}

void responses_decoder::on_item_added(const json& j)
{
    started_ = true;  // reasoning items are added as soon as the model starts thinking
    auto const* item = member(j, "item");
    if (!item || text_member(*item, "type") != "function_call")
        return;
    auto id = text_member(*item, "call_id");
    auto name = text_member(*item, "name");
    auto args = text_member(*item, "arguments");
    const int ordinal = tools_.start(int_member(j, "output_index").value_or(-1), id, name);
    tools_.append(ordinal, args);
    out_->emplace_back(tool_call_delta_event{ordinal, std::move(id), std::move(name), std::move(args)});
}

void responses_decoder::on_arguments(const json& j, bool done)
{
    const int ordinal = tools_.find(int_member(j, "output_index").value_or(-1));
    if (ordinal < 0)
        return;
    if (!done)
    {
        auto fragment = text_member(j, "delta");
        tools_.append(ordinal, fragment);
        out_->emplace_back(tool_call_delta_event{ordinal, {}, {}, std::move(fragment)});
    }
    else if (tools_.call(ordinal).arguments.empty())
        tools_.call(ordinal).arguments = text_member(j, "arguments");  // deltas were skipped
}

void responses_decoder::on_item_done(const json& j)
{
    auto const* item = member(j, "item");
    if (!item)
        return;
    auto const item_type = text_member(*item, "type");
    if (item_type == "function_call")
    {
        const int ordinal = tools_.find(int_member(j, "output_index").value_or(-1));
        if (ordinal >= 0)
        {
            if (tools_.call(ordinal).arguments.empty())
                tools_.call(ordinal).arguments = text_member(*item, "arguments");
            tools_.complete(ordinal, *out_);
        }
    }
    else if (item_type == "reasoning")
    {
        // Kept for the next turn: without server-side storage the encrypted reasoning is
        // what lets the model continue its chain of thought after a tool call.
        thinking_part block{.protocol = "openai_responses", .id = text_member(*item, "id")};
        block.signature = text_member(*item, "encrypted_content");
        if (auto const* summary = member(*item, "summary"); summary && summary->is_array())
            for (auto const& s : *summary)
                block.text += text_member(s, "text");
        out_->emplace_back(thinking_block_event{std::move(block)});
    }
}

void responses_decoder::finalize(const json& response, finish_reason reason, std::string raw)
{
    tools_.complete_all(*out_);
    usage totals;
    if (auto const* u = member(response, "usage"))
    {
        totals.input_tokens = count_member(*u, "input_tokens").value_or(0);
        totals.output_tokens = count_member(*u, "output_tokens").value_or(0);
        if (auto const* d = member(*u, "input_tokens_details"))
            totals.cached_input_tokens = count_member(*d, "cached_tokens").value_or(0);
        if (auto const* d = member(*u, "output_tokens_details"))
            totals.reasoning_tokens = count_member(*d, "reasoning_tokens").value_or(0);
    }
    out_->emplace_back(usage_event{totals});
    if (!tools_.empty() && reason == finish_reason::stop)
        reason = finish_reason::tool_calls;  // the function_call items are the "stop reason"
    out_->emplace_back(finish_event{reason, std::move(raw)});
    done_ = true;
}

boost::system::error_code responses_decoder::failure(const json& error, const char* what)
{
    // {code, message[, param]}: the code is the error's type here (server_error,
    // rate_limit_exceeded, invalid_prompt, …).
    json obj = error.is_object() ? error : json::object();
    if (!obj.contains("type"))
        if (auto const* code = string_member(obj, "code"))
            obj["type"] = *code;
    auto ec = classify_error_object(responses_errors(), std::nullopt, obj, *diag_);
    diag_->message = what;
    return ec;
}

}  // namespace

std::unique_ptr<stream_decoder> make_responses_decoder() { return std::make_unique<responses_decoder>(true); }

std::unique_ptr<stream_decoder> make_responses_decoder_full_parse()
{
    return std::make_unique<responses_decoder>(false);
}

}  // namespace ep::providers::sansio
