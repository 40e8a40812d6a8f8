#include "protocols/anthropic/events.hpp"

#include "protocols/anthropic/anthropic.hpp"

namespace ep::providers::sansio {

void anthropic_event_mapper::read_usage(const json& u)
{
    // Values are cumulative: replace, never add (the docs warn about this). input_tokens
    // excludes the cache reads and writes; the normalised total includes them.
    if (auto v = count_member(u, "input_tokens"))
        base_input_ = *v;
    if (auto v = count_member(u, "cache_creation_input_tokens"))
        totals_.cache_creation_input_tokens = *v;
    if (auto v = count_member(u, "cache_read_input_tokens"))
        totals_.cached_input_tokens = *v;
    if (auto v = count_member(u, "output_tokens"))
        totals_.output_tokens = *v;
    totals_.input_tokens = base_input_ + totals_.cache_creation_input_tokens + totals_.cached_input_tokens;
}

void anthropic_event_mapper::text_delta(std::string text, std::vector<stream_event>& out)
{
    if (text.empty())
        return;
    out.emplace_back(text_delta_event{std::move(text)});
    saw_text_ = true;
}

void anthropic_event_mapper::on_block_start(const json& j, std::vector<stream_event>& out)
{
    auto const* block = member(j, "content_block");
    if (!block)
        return;
    started_ = true;
    const auto index = int_member(j, "index").value_or(0);
    const auto type = string_or(*block, "type");
    if (type == "text")
        text_delta(string_or(*block, "text"), out);
    else if (type == "thinking" || type == "redacted_thinking")
        open_thinking_[index] = thinking_part{.protocol = "anthropic",
                                              .text = string_or(*block, "thinking"),
                                              .signature = string_or(*block, "signature"),
                                              .redacted = string_or(*block, "data")};
    else if (type == "tool_use" && !text_only_)
    {
        auto id = string_or(*block, "id");
        auto tool_name = string_or(*block, "name");
        const int ordinal = tools_.start(index, id, tool_name);
        open_tool_blocks_[index] = ordinal;
        out.emplace_back(tool_call_delta_event{ordinal, std::move(id), std::move(tool_name), {}});
    }
}

void anthropic_event_mapper::on_block_delta(const json& j, std::vector<stream_event>& out)
{
    auto const* delta = member(j, "delta");
    if (!delta)
        return;
    const auto index = int_member(j, "index").value_or(0);
    const auto type = string_or(*delta, "type");
    if (type == "text_delta")
        text_delta(string_or(*delta, "text"), out);
    else if (type == "thinking_delta")
    {
        auto text = string_or(*delta, "thinking");
        if (auto it = open_thinking_.find(index); it != open_thinking_.end())
            it->second.text += text;
        if (!text.empty())
            out.emplace_back(reasoning_delta_event{std::move(text)});
    }
    else if (type == "signature_delta")
    {
        if (auto it = open_thinking_.find(index); it != open_thinking_.end())
            it->second.signature += string_or(*delta, "signature");
    }
    else if (type == "input_json_delta" && !text_only_)
    {
        auto it = open_tool_blocks_.find(index);
        auto fragment = string_or(*delta, "partial_json");
        if (it == open_tool_blocks_.end() || fragment.empty())  // the first fragment is often ""
            return;
        tools_.append(it->second, fragment);
        out.emplace_back(tool_call_delta_event{it->second, {}, {}, std::move(fragment)});
    }
    // citations_delta: not part of the answer.
}

void anthropic_event_mapper::on_block_stop(const json& j, std::vector<stream_event>& out)
{
    const auto index = int_member(j, "index").value_or(0);
    if (auto it = open_tool_blocks_.find(index); it != open_tool_blocks_.end())
    {
        tools_.complete(it->second, out);
        open_tool_blocks_.erase(it);
    }
    if (auto it = open_thinking_.find(index); it != open_thinking_.end())
    {
        // Sent back unchanged in the next turn of a tool conversation (the API requires it).
        if (!text_only_)
            out.emplace_back(thinking_block_event{std::move(it->second)});
        open_thinking_.erase(it);
    }
}

void anthropic_event_mapper::on_message_stop(std::vector<stream_event>& out)
{
    stopped_ = true;
    if (text_only_)
        return;
    tools_.complete_all(out);
    out.emplace_back(usage_event{totals_});
    out.emplace_back(finish_event{map_anthropic_stop(raw_stop_), raw_stop_});
}

boost::system::error_code anthropic_event_mapper::handle(std::string_view name, const json& j,
                                                         std::vector<stream_event>& out, diagnostics& diag)
{
    std::string type_storage;
    if (name.empty())
    {
        type_storage = string_or(j, "type");
        name = type_storage;
    }
    if (name == "content_block_delta")
        on_block_delta(j, out);
    else if (name == "content_block_start")
        on_block_start(j, out);
    else if (name == "content_block_stop")
        on_block_stop(j, out);
    else if (name == "message_start")
    {
        if (auto const* msg = member(j, "message"))
            if (auto const* u = member(*msg, "usage"))
                read_usage(*u);
    }
    else if (name == "message_delta")
    {
        if (auto const* delta = member(j, "delta"))
            if (auto const* sr = string_member(*delta, "stop_reason"))
                raw_stop_ = *sr;
        if (auto const* u = member(j, "usage"))
            read_usage(*u);
    }
    else if (name == "message_stop")
        on_message_stop(out);
    else if (name == "error" && !text_only_)
    {
        auto const* err = member(j, "error");
        auto ec = classify_error_object(anthropic_errors(), std::nullopt, err ? *err : j, diag);
        diag.message = "anthropic: error event inside the stream";
        return ec;
    }
    // ping and unknown events: skipped (new types may be added under the same version).
    return {};
}

}  // namespace ep::providers::sansio
