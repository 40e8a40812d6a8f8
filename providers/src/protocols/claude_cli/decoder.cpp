// Claude Code CLI stdout (stream-json): NDJSON, one message per line; `result` is the last
// line. With --include-partial-messages, `stream_event` lines carry the raw Messages stream
// events, decoded by the Anthropic event logic.
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/anthropic/events.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/common/error_classify.hpp"
#include "protocols/common/fast_text.hpp"

#include <cstring>

namespace ep::providers::sansio {

namespace {

// Lines carry whole tool outputs; bound them generously but bound them.
constexpr std::size_t max_line_bytes = 64u << 20;

class claude_stream_json_decoder final : public stream_decoder
{
public:
    explicit claude_stream_json_decoder(bool fast_path) : fast_path_(fast_path) {}

    boost::system::error_code feed(std::string_view bytes, std::vector<stream_event>& out,
                                   diagnostics& diag) override
    {
        if (failed_ || done_)
            return failed_;
        auto ec = split(bytes, out, diag);
        failed_ = ec;
        return ec;
    }

    boost::system::error_code finish(std::vector<stream_event>& out, diagnostics& diag) override
    {
        if (failed_ || done_)
            return failed_;
        boost::system::error_code ec;
        if (!pending_.empty())  // the last line may lack its newline
        {
            std::string line = std::move(pending_);
            pending_.clear();
            // A last line cut short is a truncated stream, not a malformed one.
            if (parse_json(line).is_discarded())
            {
                diag.message = "claude: the CLI output ended inside a line";
                failed_ = provider_errc::stream_truncated;
                return failed_;
            }
            ec = on_line(line, out, diag);
        }
        if (!ec && !done_)
        {
            diag.message = "claude: the CLI output ended without a result line";
            ec = provider_errc::stream_truncated;
        }
        failed_ = ec;
        return ec;
    }

    bool done() const noexcept override { return done_; }
    // The CLI's own tool use and thinking count: the model is at work.
    bool content_started() const noexcept override { return assistant_seen_ || mapper_.content_started(); }

private:
    boost::system::error_code split(std::string_view bytes, std::vector<stream_event>& out, diagnostics& diag)
    {
        while (!bytes.empty() && !done_)
        {
            auto const* nl = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
            if (!nl)
            {
                if (pending_.size() + bytes.size() > max_line_bytes)
                    return too_long(diag);
                pending_.append(bytes);
                return {};
            }
            auto n = static_cast<std::size_t>(nl - bytes.data());
            boost::system::error_code ec;
            if (pending_.empty())
                ec = on_line(bytes.substr(0, n), out, diag);
            else
            {
                if (pending_.size() + n > max_line_bytes)
                    return too_long(diag);
                pending_.append(bytes.substr(0, n));
                ec = on_line(pending_, out, diag);
                pending_.clear();
            }
            if (ec)
                return ec;
            bytes.remove_prefix(n + 1);
        }
        return {};
    }

    static boost::system::error_code too_long(diagnostics& diag)
    {
        diag.message = "claude: a stream-json line is longer than " + std::to_string(max_line_bytes) + " bytes";
        return provider_errc::malformed_event;
    }

    boost::system::error_code on_line(std::string_view line, std::vector<stream_event>& out, diagnostics& diag)
    {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] != '{')
            return {};  // blank lines and non-JSON noise are not events
        if (fast_path_)
        {
            fast_text text;  // the plain text delta line without a DOM (fast_text.hpp)
            if (scan_claude_text_delta_line(line, text))
            {
                partial_seen_ = true;
                if (!text.empty())
                {
                    mapper_.text_delta(text.decoded(), out);
                    text_emitted_ = true;
                }
                return {};
            }
        }
        auto j = parse_json(line);
        if (j.is_discarded() || !j.is_object())
        {
            diag.message = "claude: a stream-json line is not valid JSON";
            diag.provider_message = truncate_utf8(line, 200);
            return provider_errc::malformed_event;
        }
        auto type = string_or(j, "type");
        if (type == "stream_event")
        {
            partial_seen_ = true;
            if (auto const* ev = member(j, "event"); ev && ev->is_object())
            {
                auto before = out.size();
                auto ec = mapper_.handle({}, *ev, out, diag);
                text_emitted_ |= out.size() != before;
                return ec;
            }
        }
        else if (type == "assistant")
            on_assistant(j, out);
        else if (type == "result")
            return on_result(j, out, diag);
        // system (init, hooks, status…), user (tool results), rate_limit_event, unknown: skipped.
        return {};
    }

    void on_assistant(const json& j, std::vector<stream_event>& out)
    {
        assistant_seen_ = true;
        if (auto const* err = string_member(j, "error"))
            assistant_error_ = *err;
        // Whole messages duplicate the partial stream; use them only when there was none.
        if (partial_seen_)
            return;
        auto const* msg = member(j, "message");
        auto const* content = msg ? member(*msg, "content") : nullptr;
        if (!content || !content->is_array())
            return;
        for (auto const& block : *content)
            if (string_or(block, "type") == "text")
                if (auto const* text = string_member(block, "text"); text && !text->empty())
                {
                    out.emplace_back(text_delta_event{*text});
                    text_emitted_ = true;
                }
    }

    boost::system::error_code on_result(const json& j, std::vector<stream_event>& out, diagnostics& diag)
    {
        done_ = true;
        auto subtype = string_or(j, "subtype");
        auto const* is_error = member(j, "is_error");
        bool failed = (is_error && is_error->is_boolean() && is_error->get<bool>()) || subtype.starts_with("error");
        if (failed)
            return classify_claude_cli_result(j, assistant_error_, diag);

        if (!text_emitted_)
            if (auto const* text = string_member(j, "result"); text && !text->empty())
                out.emplace_back(text_delta_event{*text});

        usage totals;
        if (auto const* u = member(j, "usage"))
        {
            totals.cached_input_tokens = count_member(*u, "cache_read_input_tokens").value_or(0);
            totals.cache_creation_input_tokens = count_member(*u, "cache_creation_input_tokens").value_or(0);
            totals.input_tokens = count_member(*u, "input_tokens").value_or(0) + totals.cache_creation_input_tokens +
                                  totals.cached_input_tokens;
            totals.output_tokens = count_member(*u, "output_tokens").value_or(0);
        }
        for (auto key : {"total_cost_usd", "total_cost"})  // renamed once (changelog)
            if (auto const* cost = member(j, key); cost && cost->is_number())
            {
                totals.cost_usd = cost->get<double>();
                break;
            }
        out.emplace_back(usage_event{totals});
        auto raw = string_or(j, "stop_reason", "end_turn");
        out.emplace_back(finish_event{map_anthropic_stop(raw), raw});
        return {};
    }

    bool fast_path_;
    anthropic_event_mapper mapper_{true};
    std::string pending_;
    std::string assistant_error_;
    bool partial_seen_ = false;
    bool text_emitted_ = false;
    bool done_ = false;
    bool assistant_seen_ = false;
    boost::system::error_code failed_;
};

}  // namespace

std::unique_ptr<stream_decoder> make_claude_stream_json_decoder()
{
    return std::make_unique<claude_stream_json_decoder>(true);
}

std::unique_ptr<stream_decoder> make_claude_stream_json_decoder_full_parse()
{
    return std::make_unique<claude_stream_json_decoder>(false);
}

}  // namespace ep::providers::sansio
