// Differential tests of the Anthropic, Claude Code CLI, Gemini and OpenAI Responses decoders'
// fast paths (fast_text.hpp): whatever a scanner accepts must decode exactly as the full
// nlohmann parse does, at every byte split, and whatever it is unsure of must reach the full
// parse. The same method as openai_fast_path_test.cpp.
#include "split_checks.hpp"

#include "protocols/common/fast_text.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <functional>
#include <string>
#include <vector>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

struct fast_case
{
    const char* name;
    std::string data;  // one event's JSON (an SSE data field, or a stream-json line)
    bool fast;         // the scanner should take it
};

// One protocol: its scanner, its two decoders and how a case becomes a whole stream.
struct protocol
{
    const char* name;
    std::function<bool(std::string_view)> scan;
    decoder_factory fast;
    decoder_factory full;
    std::function<std::string(std::string_view)> event;  // one case as stream bytes
    std::string tail;                                    // what ends the stream cleanly
    std::vector<fast_case> cases;
};

// Text with every kind of string content the scanner must get right: escapes (simple,
// \u, a surrogate pair) and raw UTF-8 of 2, 3 and 4 bytes.
const std::string tricky_text = R"j("a\n\"q\" \\ \/ caf\u00e9 \ud83d\ude80 )j" "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"";

// Cases every protocol shares: JSON nlohmann rejects (the decoders must fail alike).
std::vector<fast_case> invalid_json(const std::function<std::string(std::string_view)>& with_text)
{
    return {
        {"lone_surrogate", with_text(R"j("\ud83d x")j"), false},
        {"bad_escape", with_text(R"j("\x")j"), false},
        {"control_char", with_text("\"a\x01 b\""), false},
        {"bad_utf8", with_text("\"caf\xC3(\""), false},
        {"overlong_utf8", with_text("\"\xC0\x80\""), false},
        {"unterminated", with_text("\"abc"), false},
    };
}

std::string anthropic_delta(std::string_view text_json)
{
    return R"j({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)j" + std::string(text_json) +
           "}}";
}

protocol anthropic()
{
    protocol p{"anthropic",
               [](std::string_view d) {
                   fast_text t;
                   return scan_anthropic_text_delta(d, t);
               },
               [] { return make_anthropic_decoder(); },
               [] { return make_anthropic_decoder_full_parse(); },
               [](std::string_view d) { return "event: content_block_delta\ndata: " + std::string(d) + "\n\n"; },
               "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
               "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
               "\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
               {}};
    p.cases = {
        {"plain", anthropic_delta(R"j("Hello")j"), true},
        {"tricky", anthropic_delta(tricky_text), true},
        {"empty_text", anthropic_delta(R"j("")j"), true},
        {"key_order_and_extras",
         R"j({"delta":{"text":"order","type":"text_delta","extra":[1,{"a":null}]},"index":3,"type":"whatever","x":1.5e3})j",
         true},
        {"no_type_at_all", R"j({"index":0,"delta":{"type":"text_delta","text":"sse name decides"}})j", true},
        {"whitespace", " { \"delta\" : { \"type\" : \"text_delta\" , \"text\" : \"sp\" } } ", true},
        {"thinking_delta", R"j({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})j",
         false},
        {"json_delta",
         R"j({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}})j",
         false},
        {"text_not_string", R"j({"delta":{"type":"text_delta","text":5}})j", false},
        {"text_missing", R"j({"delta":{"type":"text_delta"}})j", false},
        {"duplicate_text", R"j({"delta":{"type":"text_delta","text":"a","text":"last wins"}})j", false},
        {"duplicate_delta", R"j({"delta":{"type":"text_delta","text":"a"},"delta":{"type":"text_delta","text":"b"}})j",
         false},
        {"escaped_type", R"j({"delta":{"type":"text\u005fdelta","text":"esc"}})j", false},
        {"escaped_key", R"j({"delta":{"type":"text_delta","t\u0065xt":"esc"}})j", false},
        {"delta_null", R"j({"delta":null})j", false},
        {"top_level_array", R"j([{"delta":{"type":"text_delta","text":"x"}}])j", false},
        {"trailing_garbage", anthropic_delta(R"j("x")j") + " x", false},
    };
    for (auto& c : invalid_json([](std::string_view t) { return anthropic_delta(t); }))
        p.cases.push_back(c);
    return p;
}

std::string claude_line(std::string_view text_json)
{
    return R"j({"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)j" +
           std::string(text_json) + R"j(}},"session_id":"5c3e","parent_tool_use_id":null,"uuid":"0b4f"})j";
}

protocol claude()
{
    protocol p{"claude_cli",
               [](std::string_view d) {
                   fast_text t;
                   return scan_claude_text_delta_line(d, t);
               },
               [] { return make_claude_stream_json_decoder(); },
               [] { return make_claude_stream_json_decoder_full_parse(); },
               [](std::string_view d) { return std::string(d) + "\n"; },
               "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"whole\","
               "\"usage\":{\"input_tokens\":1,\"output_tokens\":2},\"total_cost_usd\":0.1}\n",
               {}};
    p.cases = {
        {"plain", claude_line(R"j("Hello")j"), true},
        {"tricky", claude_line(tricky_text), true},
        {"empty_text", claude_line(R"j("")j"), true},
        {"leading_spaces_and_cr", "  \t" + claude_line(R"j("cr")j") + " \r", true},
        {"key_order",
         R"j({"uuid":"u","event":{"delta":{"text":"o","type":"text_delta"},"type":"content_block_delta"},"type":"stream_event"})j",
         true},
        {"other_type", R"j({"type":"assistant","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}})j",
         false},
        {"event_type_missing", R"j({"type":"stream_event","event":{"delta":{"type":"text_delta","text":"x"}}})j", false},
        {"other_event", R"j({"type":"stream_event","event":{"type":"message_start","message":{"usage":{"input_tokens":3}}}})j",
         false},
        {"thinking", R"j({"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"t"}}})j",
         false},
        {"duplicate_type",
         R"j({"type":"stream_event","type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}})j",
         false},
        {"event_not_object", R"j({"type":"stream_event","event":"x"})j", false},
        {"system_line", R"j({"type":"system","subtype":"init","session_id":"s"})j", false},
        {"trailing_garbage", claude_line(R"j("x")j") + " }", false},
    };
    for (auto& c : invalid_json([](std::string_view t) { return claude_line(t); }))
        p.cases.push_back(c);
    return p;
}

std::string responses_delta(std::string_view text_json)
{
    return R"j({"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":0,"content_index":0,"delta":)j" +
           std::string(text_json) + R"j(,"logprobs":[]})j";
}

protocol responses()
{
    protocol p{"openai_responses",
               [](std::string_view d) {
                   fast_text t;
                   return scan_responses_text_delta(d, t);
               },
               [] { return make_responses_decoder(); },
               [] { return make_responses_decoder_full_parse(); },
               [](std::string_view d) { return "event: response.output_text.delta\ndata: " + std::string(d) + "\n\n"; },
               "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\","
               "\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}}\n\n",
               {}};
    p.cases = {
        {"plain", responses_delta(R"j("Hello")j"), true},
        {"tricky", responses_delta(tricky_text), true},
        {"empty_delta", responses_delta(R"j("")j"), true},
        {"only_delta", R"j({"delta":"bare"})j", true},
        {"delta_not_string", R"j({"type":"response.output_text.delta","delta":null})j", false},
        {"delta_missing", R"j({"type":"response.output_text.delta"})j", false},
        {"duplicate_delta", R"j({"delta":"a","delta":"last wins"})j", false},
        {"escaped_key", R"j({"d\u0065lta":"x"})j", false},
        {"top_level_string", R"j("delta")j", false},
    };
    for (auto& c : invalid_json([](std::string_view t) { return responses_delta(t); }))
        p.cases.push_back(c);
    return p;
}

std::string gemini_chunk(std::string_view text_json)
{
    return R"j({"candidates":[{"content":{"parts":[{"text":)j" + std::string(text_json) +
           R"j(}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-3","responseId":"r"})j";
}

protocol gemini()
{
    protocol p{"gemini",
               [](std::string_view d) {
                   gemini_fast_chunk c;
                   return scan_gemini_fast_chunk(d, c);
               },
               [] { return make_gemini_decoder_with_id_prefix("call_"); },
               [] { return make_gemini_decoder_full_parse("call_"); },
               [](std::string_view d) { return "data: " + std::string(d) + "\r\n\r\n"; },
               // No usageMetadata: the usage the fast path read last is what the stream reports.
               "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\".\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n",
               {}};
    p.cases = {
        {"plain", gemini_chunk(R"j("Hello")j"), true},
        {"tricky", gemini_chunk(tricky_text), true},
        {"empty_text", gemini_chunk(R"j("")j"), true},
        {"all_usage_counts",
         R"j({"candidates":[{"content":{"parts":[{"text":"u"}]}}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":5,"thoughtsTokenCount":3,"cachedContentTokenCount":2,"promptTokensDetails":[{"modality":"TEXT","tokenCount":11}]}})j",
         true},
        // A count outside 0..10^15 is the full parse's (it reads it as not reported).
        {"negative_and_zero_counts", R"j({"candidates":[{"content":{"parts":[{"text":"n"}]}}],"usageMetadata":{"promptTokenCount":-3,"candidatesTokenCount":0}})j",
         false},
        {"zero_counts", R"j({"candidates":[{"content":{"parts":[{"text":"z"}]}}],"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0}})j",
         true},
        {"no_usage", R"j({"candidates":[{"content":{"parts":[{"text":"nu"}]}}]})j", true},
        {"two_parts_and_signature",
         R"j({"candidates":[{"content":{"parts":[{"text":"one "},{"text":"two","thoughtSignature":"c2ln"}]}}]})j", true},
        {"thought_false", R"j({"candidates":[{"content":{"parts":[{"text":"tf","thought":false}]}}]})j", true},
        {"part_without_text", R"j({"candidates":[{"content":{"parts":[{}]}}]})j", true},
        {"empty_parts", R"j({"candidates":[{"content":{"parts":[]}}]})j", true},
        {"finish_null", R"j({"candidates":[{"content":{"parts":[{"text":"f"}]},"finishReason":null}]})j", true},
        {"error_null", R"j({"error":null,"candidates":[{"content":{"parts":[{"text":"e"}]}}]})j", true},
        {"second_candidate_skipped",
         R"j({"candidates":[{"content":{"parts":[{"text":"first"}]}},{"content":{"parts":[{"text":"second"}]}}]})j", true},
        {"thought_true", R"j({"candidates":[{"content":{"parts":[{"text":"think","thought":true}]}}]})j", false},
        {"function_call",
         R"j({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get","args":{"a":1}}}]}}]})j", false},
        {"finish_reason", R"j({"candidates":[{"content":{"parts":[{"text":"end"}]},"finishReason":"STOP"}]})j", false},
        {"no_candidates", R"j({"promptFeedback":{"blockReason":"SAFETY"}})j", false},
        {"empty_candidates", R"j({"candidates":[],"promptFeedback":{"blockReason":"OTHER"}})j", false},
        {"error_object", R"j({"error":{"code":500,"message":"internal","status":"INTERNAL"}})j", false},
        {"float_count", R"j({"candidates":[{"content":{"parts":[{"text":"f"}]}}],"usageMetadata":{"promptTokenCount":7.0}})j",
         false},
        {"huge_count",
         R"j({"candidates":[{"content":{"parts":[{"text":"h"}]}}],"usageMetadata":{"promptTokenCount":12345678901234567890}})j",
         false},
        {"usage_null", R"j({"candidates":[{"content":{"parts":[{"text":"un"}]}}],"usageMetadata":null})j", false},
        {"duplicate_parts", R"j({"candidates":[{"content":{"parts":[{"text":"a"}],"parts":[{"text":"b"}]}}]})j", false},
        {"too_many_parts",
         R"j({"candidates":[{"content":{"parts":[{"text":"1"},{"text":"2"},{"text":"3"},{"text":"4"},{"text":"5"},{"text":"6"},{"text":"7"},{"text":"8"},{"text":"9"}]}}]})j",
         false},
    };
    for (auto& c : invalid_json([](std::string_view t) { return gemini_chunk(t); }))
        p.cases.push_back(c);
    return p;
}

const std::vector<protocol>& protocols()
{
    static const std::vector<protocol> all = {anthropic(), claude(), responses(), gemini()};
    return all;
}

// The decoder's content_started() after the whole of `bytes` (the fast path must keep it too).
bool started_after(const decoder_factory& make, std::string_view bytes)
{
    auto dec = make();
    std::vector<stream_event> out;
    diagnostics diag;
    (void)dec->feed(bytes, out, diag);
    return dec->content_started();
}

void expect_same_as_full(const protocol& p, std::string_view bytes, const std::string& what)
{
    auto reference = run_whole(p.full, bytes);
    auto r = expect_split_invariant(p.fast, bytes);
    EXPECT_EQ(r.events, reference.events) << p.name << ": " << what;
    EXPECT_EQ(r.ec, reference.ec) << p.name << ": " << what;
    EXPECT_EQ(r.diag.to_string(), reference.diag.to_string()) << p.name << ": " << what;
    EXPECT_EQ(started_after(p.fast, bytes), started_after(p.full, bytes)) << p.name << ": " << what;
}

TEST(decoder_fast_paths, scanners_take_exactly_the_plain_shapes)
{
    for (auto const& p : protocols())
        for (auto const& c : p.cases)
            EXPECT_EQ(p.scan(c.data), c.fast) << p.name << ": " << c.name;
}

TEST(decoder_fast_paths, each_event_decodes_as_the_full_parse_does)
{
    for (auto const& p : protocols())
        for (auto const& c : p.cases)
            expect_same_as_full(p, p.event(c.data) + p.tail, c.name);
}

TEST(decoder_fast_paths, whole_corpus_streams_match_at_every_split)
{
    // Fast and full events interleaved, so state the full parse carries meets fast events.
    for (auto const& p : protocols())
    {
        // Only the cases that decode cleanly: an invalid one would end the stream early.
        std::string clean;
        for (auto const& c : p.cases)
            if (!run_whole(p.full, p.event(c.data) + p.tail).ec)
                clean += p.event(c.data);
        clean += p.tail;
        expect_same_as_full(p, clean, "corpus stream");
        auto r = run_whole(p.fast, clean);
        EXPECT_FALSE(r.ec) << p.name << ": " << r.diag.to_string();
        EXPECT_EQ(r.events.front(), "text:Hello") << p.name;
    }
}

TEST(decoder_fast_paths, escapes_and_utf8_decode_exactly)
{
    const std::string expected = "text:a\n\"q\" \\ / caf\xC3\xA9 \xF0\x9F\x9A\x80 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    for (auto const& p : protocols())
    {
        const fast_case* tricky = nullptr;
        for (auto const& c : p.cases)
            if (std::string_view(c.name) == "tricky")
                tricky = &c;
        ASSERT_NE(tricky, nullptr) << p.name;
        auto r = run_whole(p.fast, p.event(tricky->data) + p.tail);
        ASSERT_FALSE(r.ec) << p.name << ": " << r.diag.to_string();
        EXPECT_EQ(r.events.front(), expected) << p.name;
    }
}

// Events the scanner must never take: the SSE event name decides for Anthropic and Responses.
TEST(decoder_fast_paths, only_the_text_delta_event_names_take_the_fast_path)
{
    const auto& a = protocols()[0];
    expect_same_as_full(a, "event: content_block_start\ndata: " + anthropic_delta(R"j("x")j") + "\n\n" + a.tail,
                        "anthropic: another event name");
    expect_same_as_full(a, "data: " + anthropic_delta(R"j("unnamed")j") + "\n\n" + a.tail, "anthropic: no name");
    const auto& r = protocols()[2];
    expect_same_as_full(r, "event: response.refusal.delta\ndata: " + responses_delta(R"j("no")j") + "\n\n" + r.tail,
                        "responses: a refusal delta");
    expect_same_as_full(r, "data: " + responses_delta(R"j("unnamed")j") + "\n\n" + r.tail, "responses: no name");
}

// Every one-byte mutation of each protocol's tricky case: the fast path either gives up or
// agrees with nlohmann. This guards "never accept what nlohmann rejects".
TEST(decoder_fast_paths, single_byte_mutations_agree_with_full_parse)
{
    const std::string replacements = std::string("\"\\{}[],:0 .eu-nx/") + '\x01' + '\x7F' + "\xC3\x80\xED\xF4\x90";
    for (auto const& p : protocols())
    {
        const std::string& base = p.cases[1].data;  // "tricky"
        int agreed_fast = 0;
        for (std::size_t i = 0; i < base.size(); ++i)
        {
            std::vector<std::string> variants{base.substr(0, i) + base.substr(i + 1)};
            for (char c : replacements)
                if (c != base[i])
                    variants.push_back(base.substr(0, i) + c + base.substr(i + 1));
            for (auto const& v : variants)
            {
                if (!p.scan(v))
                    continue;  // the full parse handles it: nothing to compare
                ++agreed_fast;
                const auto bytes = p.event(v) + p.tail;
                auto a = run_whole(p.fast, bytes);
                auto b = run_whole(p.full, bytes);
                EXPECT_EQ(a.events, b.events) << p.name << ": mutation at " << i << ": " << v;
                EXPECT_EQ(a.ec, b.ec) << p.name << ": mutation at " << i << ": " << v;
            }
        }
        EXPECT_GT(agreed_fast, 100) << p.name << ": the mutations do exercise the fast path";
    }
}

}  // namespace
