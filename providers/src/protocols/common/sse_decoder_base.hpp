#pragma once
// Common plumbing of the SSE-based decoders: owns the sse_parser, routes each event to the
// protocol's on_event while a feed is in progress, and makes errors sticky.

#include "protocols/codec.hpp"
#include "protocols/common/json_util.hpp"
#include "protocols/common/sse_parser.hpp"

namespace ep::providers::sansio {

class sse_decoder_base : public stream_decoder, protected sse_sink
{
public:
    boost::system::error_code feed(std::string_view bytes, std::vector<stream_event>& out,
                                   diagnostics& diag) override;
    boost::system::error_code finish(std::vector<stream_event>& out, diagnostics& diag) override;
    bool done() const noexcept override { return done_; }

protected:
    /// Called at end of body when done() is false. Default: stream_truncated.
    virtual boost::system::error_code on_end();
    /// Helper for subclasses: a malformed event with our message and a snippet of the data.
    boost::system::error_code malformed(std::string what, std::string_view data);
    boost::system::error_code truncated(std::string what);
    /// Bytes fed before the SSE parser sees them (Gemini sniffs for a JSON-array body).
    virtual boost::system::error_code inspect(std::string_view) { return {}; }

    std::vector<stream_event>* out_ = nullptr;  // valid during feed/finish only
    diagnostics* diag_ = nullptr;
    sse_parser parser_;
    bool done_ = false;

private:
    boost::system::error_code failed_;
};

}  // namespace ep::providers::sansio
