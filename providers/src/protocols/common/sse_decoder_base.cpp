#include "protocols/common/sse_decoder_base.hpp"

#include "protocols/common/error_classify.hpp"

namespace ep::providers::sansio {

boost::system::error_code sse_decoder_base::feed(std::string_view bytes, std::vector<stream_event>& out,
                                                 diagnostics& diag)
{
    if (failed_)
        return failed_;
    if (done_)
        return {};  // bytes after the terminal marker are ignored (as the SDKs do)
    out_ = &out;
    diag_ = &diag;
    auto ec = inspect(bytes);
    if (!ec)
        ec = parser_.feed(bytes, *this, diag);
    out_ = nullptr;
    diag_ = nullptr;
    failed_ = ec;
    return ec;
}

boost::system::error_code sse_decoder_base::finish(std::vector<stream_event>& out, diagnostics& diag)
{
    if (failed_)
        return failed_;
    if (done_)
        return {};
    out_ = &out;
    diag_ = &diag;
    auto ec = on_end();
    out_ = nullptr;
    diag_ = nullptr;
    failed_ = ec;
    return ec;
}

boost::system::error_code sse_decoder_base::on_end() { return truncated("the stream ended before its terminal event"); }

boost::system::error_code sse_decoder_base::malformed(std::string what, std::string_view data)
{
    diag_->message = std::move(what);
    diag_->provider_message = truncate_utf8(data, 200);
    return provider_errc::malformed_event;
}

boost::system::error_code sse_decoder_base::truncated(std::string what)
{
    diag_->message = std::move(what) + " (after " + std::to_string(parser_.bytes_seen()) + " bytes)";
    return provider_errc::stream_truncated;
}

}  // namespace ep::providers::sansio
