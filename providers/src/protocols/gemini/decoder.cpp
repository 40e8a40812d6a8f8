// streamGenerateContent?alt=sse: data-only SSE of GenerateContentResponse chunks; terminal =
// the chunk carrying finishReason (the server then closes the body).
#include "protocols/common/fast_text.hpp"
#include "protocols/common/sse_decoder_base.hpp"
#include "protocols/common/tool_call_accumulator.hpp"
#include "protocols/gemini/gemini.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <random>

namespace ep::providers::sansio {

namespace {

class gemini_decoder final : public sse_decoder_base
{
public:
    gemini_decoder(std::string id_prefix, bool fast_path) : id_prefix_(std::move(id_prefix)), fast_path_(fast_path) {}
    bool content_started() const noexcept override { return started_; }

protected:
    boost::system::error_code inspect(std::string_view bytes) override;
    boost::system::error_code on_event(const sse_event& ev) override;
    boost::system::error_code on_end() override
    {
        return truncated("gemini: the stream ended without a chunk carrying finishReason");
    }

private:
    void read_usage(const json& u);
    void read_part(const json& part);
    void finalize(finish_reason reason, std::string raw);
    bool try_fast_chunk(const sse_event& ev);

    std::string id_prefix_;
    bool fast_path_;
    tool_call_accumulator tools_;
    usage totals_;
    bool sniffed_ = false;
    bool started_ = false;
};

boost::system::error_code gemini_decoder::inspect(std::string_view bytes)
{
    if (sniffed_)
        return {};
    for (char c : bytes)
    {
        if (std::isspace(static_cast<unsigned char>(c)))
            continue;
        sniffed_ = true;
        if (c == '[')
            return malformed("gemini: the body is a JSON array, not SSE (the request URL lacks ?alt=sse)", bytes);
        break;
    }
    return {};
}

void gemini_decoder::read_usage(const json& u)
{
    // Repeated on every chunk; the last one is the complete one.
    totals_.input_tokens = count_member(u, "promptTokenCount").value_or(0);
    totals_.reasoning_tokens = count_member(u, "thoughtsTokenCount").value_or(0);
    totals_.output_tokens = count_member(u, "candidatesTokenCount").value_or(0) + totals_.reasoning_tokens;
    totals_.cached_input_tokens = count_member(u, "cachedContentTokenCount").value_or(0);
}

void gemini_decoder::finalize(finish_reason reason, std::string raw)
{
    tools_.complete_all(*out_);
    out_->emplace_back(usage_event{totals_});
    out_->emplace_back(finish_event{reason, std::move(raw)});
    done_ = true;
}

// A chunk of plain text parts, decoded without building a DOM (fast_text.hpp). False when
// it needs the full parse; nothing has been done then.
bool gemini_decoder::try_fast_chunk(const sse_event& ev)
{
    gemini_fast_chunk chunk;
    if (!fast_path_ || !scan_gemini_fast_chunk(ev.data, chunk))
        return false;
    if (chunk.usage_seen)  // as read_usage: the counts it lacks are 0
    {
        totals_.input_tokens = chunk.prompt_tokens;
        totals_.reasoning_tokens = chunk.thoughts_tokens;
        totals_.output_tokens = chunk.candidates_tokens + chunk.thoughts_tokens;
        totals_.cached_input_tokens = chunk.cached_tokens;
    }
    for (int i = 0; i < chunk.part_count; ++i)
    {
        started_ = true;
        if (!chunk.parts[i].empty())
            out_->emplace_back(text_delta_event{chunk.parts[i].decoded()});
    }
    return true;
}

boost::system::error_code gemini_decoder::on_event(const sse_event& ev)
{
    if (done_)
        return {};
    if (try_fast_chunk(ev))
        return {};
    auto j = parse_json(ev.data);
    if (j.is_discarded() || !j.is_object())
        return malformed("gemini: an SSE data event is not a JSON object", ev.data);

    if (auto const* err = member(j, "error"); err && !err->is_null())
    {
        auto ec = classify_error_object(gemini_errors(), std::nullopt, err->is_object() ? *err : json{{"message", text_of(*err)}},
                                        *diag_);
        diag_->message = "gemini: error chunk inside the stream";
        return ec;
    }
    if (auto const* u = member(j, "usageMetadata"))
        read_usage(*u);

    auto const* candidates = member(j, "candidates");
    if (!candidates || !candidates->is_array() || candidates->empty())
    {
        // A blocked prompt: no candidates, promptFeedback.blockReason says why. Terminal.
        if (auto const* fb = member(j, "promptFeedback"))
            if (auto const* reason = string_member(*fb, "blockReason"))
                finalize(finish_reason::content_filter, *reason);
        return {};
    }

    auto const& cand = candidates->front();
    if (auto const* content = member(cand, "content"))
        if (auto const* parts = member(*content, "parts"); parts && parts->is_array())
            for (auto const& part : *parts)
                read_part(part);

    if (auto const* fr = string_member(cand, "finishReason"))
    {
        auto reason = map_gemini_finish(*fr);
        // Gemini says STOP even when it asks for tools: the functionCall parts decide.
        if (!tools_.empty() && reason == finish_reason::stop)
            reason = finish_reason::tool_calls;
        finalize(reason, *fr);
    }
    return {};
}

void gemini_decoder::read_part(const json& part)
{
    started_ = true;
    auto const* thought = member(part, "thought");
    if (thought && thought->is_boolean() && thought->get<bool>())
    {
        // A thought summary (includeThoughts): reasoning, never the answer.
        if (auto const* text = string_member(part, "text"); text && !text->empty())
            out_->emplace_back(reasoning_delta_event{*text});
        return;
    }
    if (auto const* text = string_member(part, "text"); text && !text->empty())
        out_->emplace_back(text_delta_event{*text});
    else if (auto const* fc = member(part, "functionCall"))
    {
        // Calls arrive whole; the id is usually missing, so make one up to pair results.
        auto id = string_or(*fc, "id");
        if (id.empty())
            id = id_prefix_ + std::to_string(tools_.size());
        auto name = string_or(*fc, "name");
        auto const* args = member(*fc, "args");
        std::string arguments = args ? args->dump() : "{}";
        const int ordinal = tools_.start(static_cast<long long>(tools_.size()), id, name);
        tools_.append(ordinal, arguments);
        // The signature belongs to this part and must come back with it (Gemini 3).
        tools_.call(ordinal).signature = string_or(part, "thoughtSignature");
        out_->emplace_back(tool_call_delta_event{ordinal, std::move(id), std::move(name), arguments});
        tools_.complete(ordinal, *out_);
    }
}

std::string random_prefix()
{
    // Unique across calls and processes so that made-up ids never collide within a
    // conversation (Anthropic rejects duplicate tool_use ids if the conversation moves there).
    static std::atomic<unsigned long long> counter{0};
    static const unsigned long long seed = [] {
        std::random_device rd;
        return (static_cast<unsigned long long>(rd()) << 32) ^ rd();
    }();
    char buf[40];
    std::snprintf(buf, sizeof buf, "call_%012llx_", (seed + counter.fetch_add(1) * 0x9E3779B97F4A7C15ull) & 0xFFFFFFFFFFFFull);
    return buf;
}

}  // namespace

std::unique_ptr<stream_decoder> make_gemini_decoder() { return std::make_unique<gemini_decoder>(random_prefix(), true); }

std::unique_ptr<stream_decoder> make_gemini_decoder_with_id_prefix(std::string call_id_prefix)
{
    return std::make_unique<gemini_decoder>(std::move(call_id_prefix), true);
}

std::unique_ptr<stream_decoder> make_gemini_decoder_full_parse(std::string call_id_prefix)
{
    return std::make_unique<gemini_decoder>(std::move(call_id_prefix), false);
}

}  // namespace ep::providers::sansio
