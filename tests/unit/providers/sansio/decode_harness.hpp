#pragma once
// Runs a stream_decoder over a byte string split at chosen offsets and renders what came out
// as comparable text, so the same input can be checked whole, split at every offset and
// byte by byte.

#include "sansio_private.hpp"

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace ep::providers::sansio::testing {

using decoder_factory = std::function<std::unique_ptr<stream_decoder>()>;

struct decode_result
{
    std::vector<std::string> events;  // describe() of each event, in order
    std::vector<stream_event> raw;
    boost::system::error_code ec;
    diagnostics diag;
    bool done_before_finish = false;
};

inline std::string describe(const stream_event& ev)
{
    struct v
    {
        std::string operator()(const text_delta_event& e) const { return "text:" + e.text; }
        std::string operator()(const tool_call_delta_event& e) const
        {
            return "tool_delta:" + std::to_string(e.index) + ":" + e.id + ":" + e.name + ":" + e.arguments_fragment;
        }
        std::string operator()(const tool_call_complete_event& e) const
        {
            return "tool_complete:" + std::to_string(e.index) + ":" + e.call.id + ":" + e.call.name + ":" +
                   e.call.arguments + (e.call.signature.empty() ? "" : ":sig=" + e.call.signature);
        }
        std::string operator()(const usage_event& e) const
        {
            std::string s = "usage:" + std::to_string(e.totals.input_tokens) + "/" +
                            std::to_string(e.totals.output_tokens) + "/" + std::to_string(e.totals.cached_input_tokens);
            if (e.totals.cache_creation_input_tokens || e.totals.reasoning_tokens)
                s += "/w" + std::to_string(e.totals.cache_creation_input_tokens) + "/r" +
                     std::to_string(e.totals.reasoning_tokens);
            if (e.totals.cost_usd)
                s += "/$" + std::to_string(*e.totals.cost_usd);
            return s;
        }
        std::string operator()(const reasoning_delta_event& e) const { return "reasoning:" + e.text; }
        std::string operator()(const thinking_block_event& e) const
        {
            return "thinking:" + e.block.protocol + ":" + e.block.id + ":" + e.block.text + ":" + e.block.signature +
                   ":" + e.block.redacted;
        }
        std::string operator()(const finish_event& e) const
        {
            return std::string("finish:") + to_string(e.reason) + ":" + e.raw_reason;
        }
    };
    return std::visit(v{}, ev);
}

/// Feeds `bytes` in pieces ending at each offset in `cuts` (ascending), then calls finish().
inline decode_result run_decoder(const decoder_factory& make, std::string_view bytes, const std::vector<std::size_t>& cuts)
{
    decode_result r;
    auto dec = make();
    std::size_t pos = 0;
    auto feed_to = [&](std::size_t end) {
        if (r.ec || end <= pos)
            return;
        r.ec = dec->feed(bytes.substr(pos, end - pos), r.raw, r.diag);
        pos = end;
    };
    for (auto c : cuts)
        feed_to(c);
    feed_to(bytes.size());
    if (!r.ec)
    {
        r.done_before_finish = dec->done();
        r.ec = dec->finish(r.raw, r.diag);
    }
    for (auto const& e : r.raw)
        r.events.push_back(describe(e));
    return r;
}

inline decode_result run_whole(const decoder_factory& make, std::string_view bytes) { return run_decoder(make, bytes, {}); }

inline decode_result run_bytewise(const decoder_factory& make, std::string_view bytes)
{
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i)
        cuts.push_back(i);
    return run_decoder(make, bytes, cuts);
}

inline std::string load_transcript(const std::string& name)
{
    std::ifstream in(std::string(EP_TESTDATA_DIR) + "/transcripts/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace ep::providers::sansio::testing
