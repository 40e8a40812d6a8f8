// SSE + JSON decode throughput of each provider's stream decoder on a large synthetic stream
// shaped like the real ones (OpenAI chunks, Anthropic named events, Gemini CRLF chunks, Claude
// Code stream-json lines, OpenAI Responses named events), fed in 16 KiB reads.
// Target (issue 3): >= 300 MB/s per core on OpenAI chunk streams.

// The sans-I/O code is private to ep_providers (providers/src is on this target's include path).
#include "protocols/anthropic/anthropic.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/common/sse_parser.hpp"
#include "protocols/gemini/gemini.hpp"
#include "protocols/openai/fast_chunk.hpp"
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;

constexpr std::size_t target_bytes = 8u << 20;
constexpr std::size_t read_size = 16u << 10;

const char* const words[] = {"The ", "design ", "uses ", "a ", "bounded ", "queue", ", ", "with ", "workers ",
                             "caf\xC3\xA9 ", "and ", "back", "pressure", ".\\n", "Each ", "phase "};

std::string openai_stream()
{
    std::string s;
    std::size_t i = 0;
    while (s.size() < target_bytes)
        s += std::string("data: {\"id\":\"chatcmpl-AbCdEf0123456789\",\"object\":\"chat.completion.chunk\","
                         "\"created\":1731000000,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_abc123\","
                         "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") +
             words[i++ % 16] + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
    s += "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
         "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20}}\n\ndata: [DONE]\n\n";
    return s;
}

std::string anthropic_stream()
{
    std::string s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
                    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    std::size_t i = 0;
    while (s.size() < target_bytes)
        s += std::string("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"") +
             words[i++ % 16] + "\"}}\n\n";
    s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
         "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":99}}\n\n"
         "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    return s;
}

std::string responses_stream()
{
    std::string s =
        "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":"
        "{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n"
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,"
        "\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\","
        "\"role\":\"assistant\",\"content\":[]}}\n\n";
    std::size_t i = 0;
    while (s.size() < target_bytes)
    {
        s += "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":" +
             std::to_string(i + 2) + ",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"" +
             words[i % 16] + "\"}\n\n";
        ++i;
    }
    s += "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":" + std::to_string(i + 2) +
         ",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"output\":[],"
         "\"usage\":{\"input_tokens\":10,\"output_tokens\":20,\"total_tokens\":30}}}\n\n";
    return s;
}

std::string gemini_stream()
{
    std::string s;
    std::size_t i = 0;
    while (s.size() < target_bytes)
    {
        // Gemini chunks carry a few tokens each.
        std::string text;
        for (int k = 0; k < 4; ++k)
            text += words[i++ % 16];
        s += "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + text +
             "\"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":7,\"totalTokenCount\":7},"
             "\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"pdSfZ4abc\"}\r\n\r\n";
    }
    s += "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\".\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],"
         "\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":99,\"totalTokenCount\":106}}\r\n\r\n";
    return s;
}

std::string claude_stream()
{
    std::string s = "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}\n";
    std::size_t i = 0;
    while (s.size() < target_bytes)
        s += std::string("{\"type\":\"stream_event\",\"event\":{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"") +
             words[i++ % 16] + "\"}},\"session_id\":\"5c3e8a4e-1111-2222-3333-444455556666\",\"parent_tool_use_id\":null,\"uuid\":\"0b4f-aaaa\"}\n";
    s += "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"x\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2},\"total_cost_usd\":0.1}\n";
    return s;
}

template <class Make>
void run_decoder(benchmark::State& state, const std::string& stream, Make make)
{
    std::vector<stream_event> out;
    out.reserve(1024);
    std::size_t events = 0;
    for (auto _ : state)
    {
        auto dec = make();
        diagnostics diag;
        for (std::size_t pos = 0; pos < stream.size(); pos += read_size)
        {
            auto ec = dec->feed(std::string_view(stream).substr(pos, read_size), out, diag);
            if (ec)
            {
                state.SkipWithError(diag.to_string().c_str());
                return;
            }
            events += out.size();
            out.clear();  // the transport hands events on after each read
        }
        if (dec->finish(out, diag) || !dec->done())
        {
            state.SkipWithError("stream not complete");
            return;
        }
        events += out.size();
        out.clear();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
    state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void bm_openai(benchmark::State& state)
{
    static const auto stream = openai_stream();
    run_decoder(state, stream, [] { return make_openai_decoder(); });
}
// The same stream with the fast path off: every chunk through nlohmann (the cost it saves).
void bm_openai_full_parse(benchmark::State& state)
{
    static const auto stream = openai_stream();
    run_decoder(state, stream, [] { return make_openai_decoder_full_parse(); });
}
void bm_anthropic(benchmark::State& state)
{
    static const auto stream = anthropic_stream();
    run_decoder(state, stream, [] { return make_anthropic_decoder(); });
}
void bm_gemini(benchmark::State& state)
{
    static const auto stream = gemini_stream();
    run_decoder(state, stream, [] { return make_gemini_decoder(); });
}
void bm_openai_responses(benchmark::State& state)
{
    static const auto stream = responses_stream();
    run_decoder(state, stream, [] { return make_responses_decoder(); });
}
void bm_claude_stream_json(benchmark::State& state)
{
    static const auto stream = claude_stream();
    run_decoder(state, stream, [] { return make_claude_stream_json_decoder(); });
}

// The SSE framing alone (no JSON), to show where the time goes.
void bm_sse_only_openai(benchmark::State& state)
{
    static const auto stream = openai_stream();
    struct counting_sink : sse_sink
    {
        std::size_t n = 0;
        boost::system::error_code on_event(const sse_event& ev) override
        {
            n += ev.data.size();
            return {};
        }
    } sink;
    for (auto _ : state)
    {
        sse_parser parser;
        diagnostics diag;
        for (std::size_t pos = 0; pos < stream.size(); pos += read_size)
            if (parser.feed(std::string_view(stream).substr(pos, read_size), sink, diag))
                state.SkipWithError("sse error");
    }
    benchmark::DoNotOptimize(sink.n);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}

}  // namespace

BENCHMARK(bm_openai)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_openai_full_parse)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_anthropic)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_gemini)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_claude_stream_json)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_openai_responses)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_sse_only_openai)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
