#include "protocols/anthropic/events.hpp"

#include "protocols/anthropic/anthropic.hpp"

namespace ep::providers::sansio {

void anthropic_event_mapper::read_usage(const json& u)
{
    // Values are cumulative: replace, never add (the docs warn about this).
    if (auto v = int_member(u, "input_tokens"))
        base_input_ = *v;
    if (auto v = int_member(u, "cache_creation_input_tokens"))
        cache_creation_ = *v;
    if (auto v = int_member(u, "cache_read_input_tokens"))
        cache_read_ = *v;
    if (auto v = int_member(u, "output_tokens"))
        totals_.output_tokens = *v;
    totals_.input_tokens = base_input_ + cache_creation_ + cache_read_;
    totals_.cached_input_tokens = cache_read_;
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
    {
        auto const* delta = member(j, "delta");
        if (!delta)
            return {};
        auto delta_type = string_or(*delta, "type");
        if (delta_type == "text_delta")
        {
            if (auto const* text = string_member(*delta, "text"); text && !text->empty())
            {
                out.emplace_back(text_delta_event{*text});
                saw_text_ = true;
            }
        }
        else if (delta_type == "input_json_delta" && !text_only_)
        {
            auto index = int_member(j, "index").value_or(0);
            for (auto const& [block, ordinal] : open_tool_blocks_)
                if (block == index)
                {
                    auto fragment = string_or(*delta, "partial_json");
                    if (fragment.empty())
                        break;  // the first fragment is often ""
                    tools_.append(ordinal, fragment);
                    out.emplace_back(tool_call_delta_event{ordinal, {}, {}, std::move(fragment)});
                    break;
                }
        }
        // thinking_delta, signature_delta, citations_delta: not part of the answer.
    }
    else if (name == "content_block_start")
    {
        auto const* block = member(j, "content_block");
        if (!block)
            return {};
        auto block_type = string_or(*block, "type");
        if (block_type == "text")
        {
            if (auto const* text = string_member(*block, "text"); text && !text->empty())
            {
                out.emplace_back(text_delta_event{*text});
                saw_text_ = true;
            }
        }
        else if (block_type == "tool_use" && !text_only_)
        {
            auto index = int_member(j, "index").value_or(0);
            auto id = string_or(*block, "id");
            auto tool_name = string_or(*block, "name");
            int ordinal = tools_.start(index, id, tool_name);
            open_tool_blocks_.emplace_back(index, ordinal);
            out.emplace_back(tool_call_delta_event{ordinal, std::move(id), std::move(tool_name), {}});
        }
    }
    else if (name == "content_block_stop")
    {
        auto index = int_member(j, "index").value_or(0);
        for (auto it = open_tool_blocks_.begin(); it != open_tool_blocks_.end(); ++it)
            if (it->first == index)
            {
                tools_.complete(it->second, out);
                open_tool_blocks_.erase(it);
                break;
            }
    }
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
    {
        stopped_ = true;
        if (!text_only_)
        {
            tools_.complete_all(out);
            out.emplace_back(usage_event{totals_});
            auto reason = map_anthropic_stop(raw_stop_);
            out.emplace_back(finish_event{reason, raw_stop_});
        }
    }
    else if (name == "error")
    {
        if (text_only_)
            return {};
        auto const* err = member(j, "error");
        auto ec = classify_error_object(anthropic_errors(), std::nullopt, err ? *err : j, diag);
        diag.message = "anthropic: error event inside the stream";
        return ec;
    }
    // ping and unknown events: skipped (new types may be added under the same version).
    return {};
}

}  // namespace ep::providers::sansio
