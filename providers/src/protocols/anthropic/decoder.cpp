// Messages stream (Anthropic docs: Streaming Messages): named SSE events, terminal
// `message_stop`.
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/anthropic/events.hpp"
#include "protocols/common/fast_text.hpp"
#include "protocols/common/sse_decoder_base.hpp"

namespace ep::providers::sansio {

namespace {

class anthropic_decoder final : public sse_decoder_base
{
public:
    explicit anthropic_decoder(bool fast_path) : fast_path_(fast_path) {}
    bool content_started() const noexcept override { return mapper_.content_started(); }

protected:
    boost::system::error_code on_event(const sse_event& ev) override
    {
        if (done_)
            return {};
        if (ev.event == "ping")
            return {};  // skip the parse: pings can be frequent
        if (fast_path_ && ev.event == "content_block_delta")
        {
            fast_text text;  // the plain text delta without a DOM (fast_text.hpp)
            if (scan_anthropic_text_delta(ev.data, text))
            {
                mapper_.text_delta(text.decoded(), *out_);
                return {};
            }
        }
        auto j = parse_json(ev.data);
        if (j.is_discarded() || !j.is_object())
            return malformed("anthropic: an SSE data event is not a JSON object", ev.data);
        auto ec = mapper_.handle(ev.event, j, *out_, *diag_);
        done_ = mapper_.stopped();
        return ec;
    }

    boost::system::error_code on_end() override
    {
        return truncated("anthropic: the stream ended without message_stop");
    }

private:
    bool fast_path_;
    anthropic_event_mapper mapper_;
};

}  // namespace

std::unique_ptr<stream_decoder> make_anthropic_decoder() { return std::make_unique<anthropic_decoder>(true); }

std::unique_ptr<stream_decoder> make_anthropic_decoder_full_parse()
{
    return std::make_unique<anthropic_decoder>(false);
}

}  // namespace ep::providers::sansio
