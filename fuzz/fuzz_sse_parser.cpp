// The SSE parser on arbitrary bytes, with a small line limit so the over-long-line path is
// reached too. Checked: no crash, and the events seen when the bytes are fed whole equal the
// events seen when they are fed one byte at a time (the parser is split-invariant).
#include "protocols/common/sse_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sansio = ep::providers::sansio;

class recording_sink : public sansio::sse_sink
{
public:
    boost::system::error_code on_event(const sansio::sse_event& ev) override
    {
        seen.push_back(ev.event + '\x1f' + ev.data + '\x1f' + ev.id + '\x1f' +
                       (ev.retry ? std::to_string(*ev.retry) : std::string()));
        return {};
    }
    std::vector<std::string> seen;
};

struct outcome
{
    std::vector<std::string> events;
    boost::system::error_code ec;
    bool boundary = false;
};

outcome parse(std::string_view bytes, std::size_t step)
{
    sansio::sse_parser parser(4096);
    recording_sink sink;
    ep::providers::diagnostics diag;
    outcome out;
    for (std::size_t at = 0; at < bytes.size() && !out.ec; at += step)
        out.ec = parser.feed(bytes.substr(at, step), sink, diag);
    out.events = std::move(sink.seen);
    out.boundary = parser.at_event_boundary();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto whole = parse(bytes, bytes.size() + 1);
    const auto bytewise = parse(bytes, 1);
    if (whole.ec != bytewise.ec)
        std::abort();
    if (!whole.ec && (whole.events != bytewise.events || whole.boundary != bytewise.boundary))
        std::abort();
    return 0;
}
