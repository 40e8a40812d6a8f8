// A provider's stream decoder (EP_FUZZ_PROTOCOL: openai, openai_responses, anthropic, gemini,
// claude_cli) on arbitrary bytes. The first input byte chooses where the body is split into
// feeds, so the fuzzer explores split points too; the invariants checked are the decoder's
// contract: no crash, no exception, an error is sticky (nothing is fed after it), and a body
// fed in two pieces gives the same events and result as fed whole.
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/gemini/gemini.hpp"
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

namespace sansio = ep::providers::sansio;

std::unique_ptr<sansio::stream_decoder> make_decoder()
{
    constexpr std::string_view protocol = EP_FUZZ_PROTOCOL;
    if (protocol == "openai")
        return sansio::make_openai_decoder();
    if (protocol == "openai_responses")
        return sansio::make_responses_decoder();
    if (protocol == "anthropic")
        return sansio::make_anthropic_decoder();
    if (protocol == "gemini")
        return sansio::make_gemini_decoder_with_id_prefix("call_");
    return sansio::make_claude_stream_json_decoder();
}

struct outcome
{
    std::vector<ep::providers::stream_event> events;
    boost::system::error_code ec;
};

outcome decode(std::string_view body, std::size_t split)
{
    outcome out;
    auto dec = make_decoder();
    ep::providers::diagnostics diag;
    out.ec = dec->feed(body.substr(0, split), out.events, diag);
    if (!out.ec && split < body.size())
        out.ec = dec->feed(body.substr(split), out.events, diag);
    if (!out.ec)
        out.ec = dec->finish(out.events, diag);
    (void)dec->content_started();
    (void)dec->done();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = body.empty() ? 0 : data[0] % (body.size() + 1);
    const auto whole = decode(body, body.size());
    const auto split_run = decode(body, split);
    if (whole.ec != split_run.ec || whole.events.size() != split_run.events.size())
        std::abort();  // a decoder must not depend on how the bytes were cut
    return 0;
}
