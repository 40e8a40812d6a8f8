// Differential tests of the OpenAI decoder's fast path (openai_fast_chunk): whatever it
// accepts must decode exactly as the full nlohmann parse does, at every byte split, and
// whatever it is unsure of must reach the full parse.
#include "split_checks.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>
#include <stdexcept>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory fast = [] { return make_openai_decoder(); };
const decoder_factory full = [] { return make_openai_decoder_full_parse(); };

struct chunk_case
{
    const char* name;
    std::string data;  // the SSE data field (the JSON text)
    bool fast;         // the fast path should take it
};

// A plain chunk as OpenAI sends it, with `content` spliced in as raw JSON text.
std::string openai_chunk(std::string_view content_json)
{
    return std::string(R"j({"id":"chatcmpl-AbC","object":"chat.completion.chunk","created":1731000000,)j"
                       R"j("model":"gpt-4o-2024-08-06","system_fingerprint":"fp_abc","choices":[{"index":0,)j"
                       R"j("delta":{"content":)j") +
           std::string(content_json) + R"j(},"logprobs":null,"finish_reason":null}],"usage":null})j";
}

const std::vector<chunk_case>& corpus()
{
    static const std::vector<chunk_case> cases = {
        // ---- the fast path's shapes -------------------------------------------------
        {"role_only_first_chunk",
         R"j({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]})j",
         true},
        {"plain", openai_chunk(R"j("Hello")j"), true},
        {"simple_escapes", openai_chunk(R"j("a\nb \"q\" back\\slash a\/b\tt\rr\bb\ff")j"), true},
        {"unicode_escapes", openai_chunk(R"j("caf\u00e9 \u2014 \ud83d\ude80 \u0041\uD83D\uDE00 \uFFFF\u0800\u07ff")j"),
         true},
        {"nul_escape", openai_chunk(R"j("a\u0000b")j"), true},
        {"raw_utf8", openai_chunk("\"caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x9A\x80 \xF4\x8F\xBF\xBF \xED\x9F\xBF\""), true},
        {"escape_only", openai_chunk(R"j("\n")j"), true},
        {"empty_content", openai_chunk(R"j("")j"), true},
        {"null_content", openai_chunk("null"), true},
        {"unusual_key_order",
         R"j({"choices":[{"finish_reason":null,"delta":{"content":"order","role":"assistant"},"index":0}],"usage":null,"model":"m","object":"chat.completion.chunk","id":"i"})j",
         true},
        {"extra_whitespace", " \t{ \"choices\" :\t[ { \"index\" : 0 , \"delta\" : { \"content\" : \"spaced\" } } ] }\t ",
         true},
        {"newlines_from_multiline_data", "{\n\"choices\":[{\"index\":0,\n\"delta\":{\"content\":\"ml\"}}]\n}", true},
        {"no_index", R"j({"choices":[{"delta":{"content":"noindex"}}]})j", true},
        {"empty_delta", R"j({"choices":[{"index":0,"delta":{}}]})j", true},
        {"no_choices_key", R"j({"id":"x","object":"chat.completion.chunk"})j", true},
        {"empty_choices_no_usage", R"j({"id":"x","choices":[]})j", true},
        {"error_null", R"j({"error":null,"choices":[{"index":0,"delta":{"content":"e"}}]})j", true},
        {"tool_calls_null", R"j({"choices":[{"index":0,"delta":{"content":"t","tool_calls":null}}]})j", true},
        {"reasoning_content_null", R"j({"choices":[{"index":0,"delta":{"content":"x","reasoning_content":null}}]})j",
         true},
        {"logprobs_and_numbers",
         R"j({"choices":[{"index":0,"delta":{"content":"lp"},"logprobs":{"content":[{"token":"lp","logprob":-0.0012,"p":1.5e-05,"q":2E+3,"r":-0,"bytes":[108,112],"top_logprobs":[],"ok":true,"no":false}]}}]})j",
         true},
        {"duplicate_ignored_key", R"j({"id":"a","id":"b","choices":[{"index":0,"delta":{"content":"dup id"}}]})j", true},
        {"object_not_error", R"j({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"o"}}]})j",
         true},

        // ---- shapes left to the full parse ------------------------------------------
        {"tool_call_start",
         R"j({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})j",
         false},
        {"tool_call_args",
         R"j({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Par"}}]},"finish_reason":null}]})j",
         false},
        {"reasoning_content",
         R"j({"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"think \u00e9"}}]})j", false},
        {"ollama_reasoning", R"j({"choices":[{"index":0,"delta":{"content":"","reasoning":"hmm"}}]})j", false},
        {"tool_calls_empty_array", R"j({"choices":[{"index":0,"delta":{"content":"x","tool_calls":[]}}]})j", false},
        {"refusal", R"j({"choices":[{"index":0,"delta":{"refusal":"I can't"}}]})j", false},
        {"other_index", R"j({"choices":[{"index":1,"delta":{"content":"other choice"}}]})j", false},
        {"float_index", R"j({"choices":[{"index":0.0,"delta":{"content":"float index"}}]})j", false},
        {"string_index", R"j({"choices":[{"index":"0","delta":{"content":"string index"}}]})j", false},
        {"two_choices",
         R"j({"choices":[{"index":0,"delta":{"content":"first"}},{"index":1,"delta":{"content":"second"}}]})j", false},
        {"escaped_key", R"j({"choices":[{"index":0,"delta":{"cont\u0065nt":"escaped key"}}]})j", false},
        {"duplicate_content", R"j({"choices":[{"index":0,"delta":{"content":"a","content":"last wins"}}]})j", false},
        {"duplicate_choices",
         R"j({"choices":[{"index":0,"delta":{"content":"a"}}],"choices":[{"index":0,"delta":{"content":"b"}}]})j",
         false},
        {"number_content", R"j({"choices":[{"index":0,"delta":{"content":5}}]})j", false},
        {"delta_null", R"j({"choices":[{"index":0,"delta":null}]})j", false},
        {"choices_object", R"j({"choices":{"index":0}})j", false},
        {"usage_chunk",
         R"j({"id":"x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":2}}})j",
         false},
        {"finish_chunk", R"j({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})j", false},
        {"content_with_finish", R"j({"choices":[{"index":0,"delta":{"content":"end"},"finish_reason":"length"}]})j",
         false},
        {"utf8_bom", "\xEF\xBB\xBF{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"bom\"}}]}", false},
        {"big_but_finite_number", "{\"created\":1" + std::string(120, '0') + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"big\"}}]}",
         false},
    };
    return cases;
}

// Chunks that end the stream with an error in the full parse (error events, invalid JSON).
const std::vector<chunk_case>& failing_corpus()
{
    static const std::vector<chunk_case> cases = {
        {"error_object", R"j({"error":{"message":"The server had an error","type":"server_error","code":null}})j", false},
        {"error_string", R"j({"error":"boom","choices":[]})j", false},
        {"vllm_object_error",
         R"j({"object":"error","message":"This model's maximum context length is 4096 tokens","type":"BadRequestError","code":400})j",
         false},
        {"lone_high_surrogate", openai_chunk(R"j("\ud83d x")j"), false},
        {"lone_low_surrogate", openai_chunk(R"j("\ude80")j"), false},
        {"high_then_high", openai_chunk(R"j("\ud83d\ud83d")j"), false},
        {"bad_escape", openai_chunk(R"j("\x")j"), false},
        {"short_unicode_escape", openai_chunk(R"j("\u00e")j"), false},
        {"control_char", openai_chunk("\"a\x01 b\""), false},
        {"raw_newline_in_string", "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\nb\"}}]}", false},
        {"bad_utf8_continuation", openai_chunk("\"caf\xC3(\""), false},
        {"overlong_utf8", openai_chunk("\"\xC0\x80\""), false},
        {"utf8_surrogate", openai_chunk("\"\xED\xA0\x80\""), false},
        {"utf8_above_max", openai_chunk("\"\xF4\x90\x80\x80\""), false},
        {"truncated_utf8", openai_chunk("\"\xE2\x80\""), false},
        {"trailing_garbage", R"j({"choices":[{"index":0,"delta":{"content":"x"}}]} x)j", false},
        {"trailing_comma", R"j({"choices":[{"index":0,"delta":{"content":"x"},}]})j", false},
        {"unterminated", R"j({"choices":[{"index":0,"delta":{"content":"x)j", false},
        {"bad_literal", R"j({"usage":nul,"choices":[]})j", false},
        {"leading_zero", R"j({"created":01,"choices":[]})j", false},
        {"float_overflow", R"j({"created":1e999,"choices":[{"index":0,"delta":{"content":"x"}}]})j", false},
        {"integer_overflow_to_inf", "{\"created\":1" + std::string(400, '0') + ",\"choices\":[]}", false},
        {"top_level_array", R"j([{"choices":[]}])j", false},
        {"top_level_string", R"j("hello")j", false},
    };
    return cases;
}

std::string sse(std::string_view data)
{
    // Multi-line JSON travels as several data: lines, which the SSE parser joins with "\n".
    std::string out;
    std::size_t pos = 0;
    for (;;)
    {
        auto nl = data.find('\n', pos);
        out += "data: ";
        out += data.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        out += "\n";
        if (nl == std::string_view::npos)
            break;
        pos = nl + 1;
    }
    return out + "\n";
}

std::string done_stream(std::string_view data) { return sse(data) + "data: [DONE]\n\n"; }

const std::string& data_of(std::string_view name)
{
    for (auto const& c : corpus())
        if (c.name == name)
            return c.data;
    throw std::logic_error("no corpus case named " + std::string(name));
}

void expect_same_as_full(std::string_view bytes, const std::string& what)
{
    auto reference = run_whole(full, bytes);
    auto r = expect_split_invariant(fast, bytes);
    EXPECT_EQ(r.events, reference.events) << what;
    EXPECT_EQ(r.ec, reference.ec) << what;
    EXPECT_EQ(r.diag.to_string(), reference.diag.to_string()) << what;
}

TEST(openai_fast_path, scanner_takes_exactly_the_plain_shapes)
{
    for (auto const* set : {&corpus(), &failing_corpus()})
        for (auto const& c : *set)
        {
            openai_fast_chunk out;
            EXPECT_EQ(scan_openai_fast_chunk(c.data, out), c.fast) << c.name;
        }
}

TEST(openai_fast_path, each_chunk_decodes_as_the_full_parse_does)
{
    for (auto const& c : corpus())
        expect_same_as_full(done_stream(c.data), c.name);
    for (auto const& c : failing_corpus())
    {
        expect_same_as_full(done_stream(c.data), c.name);
        EXPECT_TRUE(run_whole(full, done_stream(c.data)).ec) << c.name << " should fail";
    }
    // An `event: error` never takes the fast path, even with a plain body.
    expect_same_as_full("event: error\n" + done_stream(openai_chunk(R"j("x")j")), "event: error");
}

TEST(openai_fast_path, whole_corpus_stream_matches_at_every_split)
{
    // Fast and slow chunks interleaved, so state carried by the full parse (tool calls,
    // finish, usage) meets chunks decoded by the fast path.
    std::string bytes = ": keep-alive\n\n";
    for (auto const& c : corpus())
        bytes += sse(c.data);
    bytes += "data: [DONE]\n\n";
    expect_same_as_full(bytes, "corpus stream");
    auto r = run_whole(fast, bytes);
    EXPECT_FALSE(r.ec) << r.diag.to_string();
    EXPECT_EQ(r.events.front(), "text:Hello");
}

TEST(openai_fast_path, fast_path_decodes_escapes_exactly)
{
    auto r = run_whole(fast, done_stream(data_of("simple_escapes")));
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.events.front(), "text:a\nb \"q\" back\\slash a/b\tt\rr\bb\ff");
    r = run_whole(fast, done_stream(data_of("unicode_escapes")));
    EXPECT_EQ(r.events.front(), "text:caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x9A\x80 A\xF0\x9F\x98\x80 \xEF\xBF\xBF\xE0\xA0\x80\xDF\xBF");
    r = run_whole(fast, done_stream(data_of("nul_escape")));
    EXPECT_EQ(r.events.front(), std::string("text:a\0b", 8));
}

// Every one-byte mutation of a chunk full of escapes and UTF-8: the fast path either gives
// up or agrees with nlohmann. This is what guards "never accept what nlohmann rejects".
TEST(openai_fast_path, single_byte_mutations_agree_with_full_parse)
{
    const std::string base = R"j({"id":"c","choices":[{"index":0,"delta":{"content":"x\"\\\/\u00e9\ud83d\ude80 )j"
                             "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                             R"j("},"logprobs":{"v":[-1.5e-3,0,true,false,null]},"finish_reason":null}],"usage":null})j";
    const std::string replacements = std::string("\"\\{}[],:0 .eu-nx/") + '\x01' + '\x7F' + "\xC3\x80\xED\xF4\x90";
    int agreed_fast = 0;
    for (std::size_t i = 0; i < base.size(); ++i)
    {
        std::vector<std::string> variants;
        variants.push_back(base.substr(0, i) + base.substr(i + 1));  // deletion
        for (char c : replacements)
            if (c != base[i])
                variants.push_back(base.substr(0, i) + c + base.substr(i + 1));
        for (auto const& v : variants)
        {
            openai_fast_chunk out;
            if (!scan_openai_fast_chunk(v, out))
                continue;  // the full parse handles it: nothing to compare
            ++agreed_fast;
            auto bytes = done_stream(v);
            auto a = run_whole(fast, bytes);
            auto b = run_whole(full, bytes);
            EXPECT_EQ(a.events, b.events) << "mutation at " << i << ": " << v;
            EXPECT_EQ(a.ec, b.ec) << "mutation at " << i << ": " << v;
            ASSERT_FALSE(b.ec) << "fast path accepted what nlohmann rejects: " << v;
        }
    }
    EXPECT_GT(agreed_fast, 100);  // the mutations do exercise the fast path
}

// Random text, serialised by nlohmann both with \u escapes (surrogate pairs for astral
// characters) and as raw UTF-8, must come back byte for byte.
TEST(openai_fast_path, random_text_round_trips)
{
    std::mt19937 rng(20240611);
    auto pick = [&](std::uint32_t lo, std::uint32_t hi) { return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng); };
    for (int n = 0; n < 500; ++n)
    {
        std::string text;
        int len = static_cast<int>(pick(0, 12));
        for (int k = 0; k < len; ++k)
        {
            std::uint32_t cp = 0;
            switch (pick(0, 4))
            {
            case 0: cp = pick(0, 0x7F); break;
            case 1: cp = pick(0x80, 0x7FF); break;
            case 2: cp = pick(0x800, 0xD7FF); break;
            case 3: cp = pick(0xE000, 0xFFFF); break;
            default: cp = pick(0x10000, 0x10FFFF); break;
            }
            // Encode through nlohmann to avoid a second hand-written encoder in the test.
            auto j = nlohmann::json::parse("\"\\u" + [&] {
                char buf[16];
                if (cp < 0x10000)
                    std::snprintf(buf, sizeof buf, "%04X\"", static_cast<unsigned>(cp));
                else
                {
                    auto v = cp - 0x10000;
                    std::snprintf(buf, sizeof buf, "%04X\\u%04X\"", 0xD800u + (v >> 10), 0xDC00u + (v & 0x3FF));
                }
                return std::string(buf);
            }());
            text += j.get<std::string>();
        }
        for (bool ascii : {true, false})
        {
            auto literal = nlohmann::json(text).dump(-1, ' ', ascii);
            auto chunk = openai_chunk(literal);
            openai_fast_chunk out;
            ASSERT_TRUE(scan_openai_fast_chunk(chunk, out)) << literal;
            auto bytes = done_stream(chunk);
            auto a = run_whole(fast, bytes);
            EXPECT_EQ(a.events, run_whole(full, bytes).events) << literal;
            if (!text.empty())
            {
                EXPECT_EQ(a.events.front(), "text:" + text) << literal;
            }
        }
    }
}

}  // namespace
