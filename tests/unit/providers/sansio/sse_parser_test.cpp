#include "sansio_private.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;

struct collect : sse_sink
{
    std::vector<sse_event> events;
    boost::system::error_code on_event(const sse_event& ev) override
    {
        events.push_back(ev);
        return {};
    }
};

std::string render(const std::vector<sse_event>& evs)
{
    std::string out;
    for (auto const& e : evs)
    {
        out += "[" + e.event + "|" + e.data + "|" + e.id + "|" + (e.retry ? std::to_string(*e.retry) : "-") + "]";
    }
    return out;
}

// Parses `input` fed in pieces split at `cuts`.
std::string parse(std::string_view input, std::vector<std::size_t> cuts = {})
{
    sse_parser p;
    collect c;
    diagnostics d;
    std::size_t pos = 0;
    cuts.push_back(input.size());
    for (auto cut : cuts)
    {
        auto ec = p.feed(input.substr(pos, cut - pos), c, d);
        EXPECT_FALSE(ec) << d.message;
        pos = cut;
    }
    return render(c.events);
}

// The result must not depend on where the input is split.
std::string parse_all_splits(std::string_view input)
{
    auto whole = parse(input);
    for (std::size_t i = 0; i <= input.size(); ++i)
        EXPECT_EQ(parse(input, {i}), whole) << "split at " << i;
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i)
        every.push_back(i);
    EXPECT_EQ(parse(input, every), whole) << "byte by byte";
    return whole;
}

TEST(sse_parser, lf_crlf_and_cr_line_endings_give_the_same_events)
{
    auto lf = parse_all_splits("event: a\ndata: one\n\ndata: two\n\n");
    EXPECT_EQ(lf, "[a|one||-][|two||-]");
    EXPECT_EQ(parse_all_splits("event: a\r\ndata: one\r\n\r\ndata: two\r\n\r\n"), lf);
    EXPECT_EQ(parse_all_splits("event: a\rdata: one\r\rdata: two\r\r"), lf);
    EXPECT_EQ(parse_all_splits("event: a\r\ndata: one\n\rdata: two\r\n\n"), lf);  // mixed
}

TEST(sse_parser, cr_at_end_of_one_feed_and_lf_at_start_of_next_is_one_line_ending)
{
    // "data: x\r" | "\n\r\n": if the LF were a second line ending, the event would be
    // dispatched early and the next data line would start a new event.
    EXPECT_EQ(parse("data: x\r\ndata: y\r\n\r\n", {8}), "[|x\ny||-]");
    EXPECT_EQ(parse("data: x\r\ndata: y\r\n\r\n", {8, 9}), "[|x\ny||-]");
}

TEST(sse_parser, multi_line_data_is_joined_with_newlines)
{
    EXPECT_EQ(parse_all_splits("data: a\ndata:b\ndata:  c\ndata\n\n"), "[|a\nb\n c\n||-]");
}

TEST(sse_parser, one_optional_space_after_the_colon_is_stripped)
{
    EXPECT_EQ(parse("data:x\n\ndata: x\n\ndata:  x\n\n"), "[|x||-][|x||-][| x||-]");
}

TEST(sse_parser, comments_are_ignored)
{
    EXPECT_EQ(parse_all_splits(": OPENROUTER PROCESSING\n\n:ping\ndata: {}\n\n"), "[|{}||-]");
}

TEST(sse_parser, field_without_colon_has_empty_value)
{
    // "data" alone is an empty data line; the event is dispatched with empty data.
    EXPECT_EQ(parse("data\n\n"), "[|||-]");
    // "event" alone resets the type to empty.
    EXPECT_EQ(parse("event: x\nevent\ndata: 1\n\n"), "[|1||-]");
}

TEST(sse_parser, event_without_data_is_not_dispatched)
{
    EXPECT_EQ(parse("event: ping\n\ndata: 1\n\n"), "[|1||-]");
}

TEST(sse_parser, id_persists_and_retry_is_reported_once)
{
    EXPECT_EQ(parse_all_splits("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nretry: x1\nid\ndata: c\n\n"),
              "[|a|7|1500][|b|7|-][|c||-]");
}

TEST(sse_parser, id_with_nul_is_ignored)
{
    std::string input = "id: 1\ndata: a\n\nid: 2";
    input.push_back('\0');
    input += "\ndata: b\n\n";
    EXPECT_EQ(parse(input), "[|a|1|-][|b|1|-]");
}

TEST(sse_parser, unknown_fields_are_ignored)
{
    EXPECT_EQ(parse("foo: bar\ndata: 1\n\n"), "[|1||-]");
}

TEST(sse_parser, utf8_split_across_feeds_is_reassembled)
{
    std::string input = "data: caf\xC3\xA9 \xF0\x9F\x9A\x80\n\n";
    EXPECT_EQ(parse_all_splits(input), "[|caf\xC3\xA9 \xF0\x9F\x9A\x80||-]");
}

TEST(sse_parser, leading_bom_is_dropped)
{
    EXPECT_EQ(parse_all_splits("\xEF\xBB\xBF" "data: 1\n\n"), "[|1||-]");
}

TEST(sse_parser, unterminated_last_event_is_not_dispatched_and_is_reported)
{
    sse_parser p;
    collect c;
    diagnostics d;
    EXPECT_FALSE(p.feed("data: 1\n\ndata: 2\n", c, d));
    EXPECT_EQ(c.events.size(), 1u);
    EXPECT_FALSE(p.at_event_boundary());
    EXPECT_FALSE(p.feed("\n", c, d));
    EXPECT_TRUE(p.at_event_boundary());
    EXPECT_EQ(c.events.size(), 2u);
}

TEST(sse_parser, over_long_line_is_malformed)
{
    sse_parser p(16);
    collect c;
    diagnostics d;
    EXPECT_FALSE(p.feed("data: 0123456789", c, d));  // 16 bytes pending: at the cap
    auto ec = p.feed("x", c, d);
    EXPECT_EQ(ec, make_error_code(provider_errc::malformed_event));
    EXPECT_NE(d.message.find("longer than 16"), std::string::npos);

    sse_parser q(16);
    EXPECT_EQ(q.feed("data: 0123456789abcdef\n\n", c, d), make_error_code(provider_errc::malformed_event));
}

TEST(sse_parser, sink_error_stops_parsing)
{
    struct failing : sse_sink
    {
        int calls = 0;
        boost::system::error_code on_event(const sse_event&) override
        {
            ++calls;
            return provider_errc::overloaded;
        }
    } sink;
    sse_parser p;
    diagnostics d;
    EXPECT_EQ(p.feed("data: 1\n\ndata: 2\n\n", sink, d), make_error_code(provider_errc::overloaded));
    EXPECT_EQ(sink.calls, 1);
}

}  // namespace
