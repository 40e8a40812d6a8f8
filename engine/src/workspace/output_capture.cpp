#include "workspace/output_capture.hpp"

#include "workspace/utf8.hpp"

#include <ep/common/redact.hpp>

#include <algorithm>

namespace ep::engine::detail {

void tail_buffer::append(std::string_view text)
{
    total_ += text.size();
    if (text.size() >= cap_)
    {
        buf_.assign(text.substr(text.size() - cap_));
        return;
    }
    buf_.append(text);
    if (buf_.size() > 2 * cap_)
        buf_.erase(0, buf_.size() - cap_);
}

std::string tail_buffer::text() const
{
    std::size_t start = buf_.size() > cap_ ? buf_.size() - cap_ : 0;
    // When something before the kept part was dropped, do not start inside a multi-byte
    // character (continuation bytes are 10xxxxxx).
    const bool cut = start > 0 || total_ > buf_.size();
    while (cut && start < buf_.size() && (static_cast<unsigned char>(buf_[start]) & 0xc0) == 0x80)
        ++start;
    const std::uint64_t dropped = total_ - (buf_.size() - start);
    if (dropped == 0)
        return buf_.substr(start);
    return "[… " + std::to_string(dropped) + " bytes dropped …]\n" + buf_.substr(start);
}

redacting_buffer::redacting_buffer(std::vector<std::string> secrets)
{
    for (auto& s : secrets)
        if (s.size() >= 4)  // the redactor's own minimum
            secrets_.push_back(std::move(s));
}

void redacting_buffer::append(std::string_view raw)
{
    pending_.append(raw);
    if (secrets_.empty())
        return;
    redactor r;
    for (const auto& s : secrets_)
        r.add_secret(s);
    pending_ = r.scrub(pending_);
}

std::string redacting_buffer::take(bool final)
{
    std::size_t hold = 0;
    if (!final)
        for (const auto& s : secrets_)
            for (std::size_t k = std::min(s.size() - 1, pending_.size()); k > hold; --k)
                if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0)
                {
                    hold = k;
                    break;
                }
    if (!final)  // a character split across reads waits for its last bytes
        hold = std::max(hold, incomplete_utf8_suffix(std::string_view(pending_)));
    std::string out = sanitize_utf8(std::string_view(pending_).substr(0, pending_.size() - hold));
    pending_.erase(0, pending_.size() - hold);
    return out;
}

}  // namespace ep::engine::detail
