#include "split_checks.hpp"

namespace {

using namespace ep::providers;
using namespace ep::providers::sansio;
using namespace ep::providers::sansio::testing;

const decoder_factory claude = [] { return make_claude_stream_json_decoder(); };

TEST(claude_stream_json, transcript_with_partial_messages)
{
    auto bytes = load_transcript("claude_stream_json.jsonl");
    ASSERT_FALSE(bytes.empty());
    auto r = expect_split_invariant(claude, bytes);
    ASSERT_FALSE(r.ec) << r.diag.to_string();
    // Text from the stream events only (the whole assistant line duplicates it); usage and
    // cost from the result line.
    std::vector<std::string> expected = {"text:Design: ", "text:use a queue \xE2\x86\x92 workers.",
                                         "usage:1102/9/1000/w100/r0/$0.399600", "finish:stop:end_turn"};
    EXPECT_EQ(r.events, expected);
    auto const& u = std::get<usage_event>(r.raw[2]).totals;
    ASSERT_TRUE(u.cost_usd);
    EXPECT_DOUBLE_EQ(*u.cost_usd, 0.3996);
    // The result line without its final newline is still complete.
    expect_prefixes_truncated(claude, bytes, bytes.size() - 1);
}

TEST(claude_stream_json, whole_assistant_lines_used_without_partial_messages)
{
    std::string s =
        "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}\n"
        "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"Bash\",\"input\":{}}]}}\n"
        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":\"ok\"}]}}\n"
        "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\" world\"}]}}\n"
        "{\"type\":\"something_new\"}\n"
        "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"Hello world\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2},\"total_cost_usd\":0.01}\n";
    auto r = expect_split_invariant(claude, s);
    ASSERT_FALSE(r.ec);
    std::vector<std::string> expected = {"text:Hello", "text: world", "usage:5/2/0/$0.010000", "finish:stop:end_turn"};
    EXPECT_EQ(r.events, expected);
}

TEST(claude_stream_json, result_text_used_when_nothing_else_arrived)
{
    auto r = run_whole(claude, "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"Only this\"}");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.events.front(), "text:Only this");
}

TEST(claude_stream_json, is_error_maps_by_api_status)
{
    auto run = [](std::string tail) {
        return run_whole(claude, "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"result\":\"API Error\"" +
                                     tail + "}\n");
    };
    EXPECT_EQ(run(",\"api_error_status\":429").ec, make_error_code(provider_errc::rate_limited));
    EXPECT_EQ(run(",\"api_error_status\":529").ec, make_error_code(provider_errc::overloaded));
    auto r = run(",\"api_error_status\":null");
    EXPECT_EQ(r.ec, make_error_code(provider_errc::cli_failed));
    EXPECT_EQ(r.diag.provider_message, "API Error");
    auto m = run_whole(claude, "{\"type\":\"result\",\"subtype\":\"error_max_turns\",\"is_error\":false,\"errors\":[\"max turns\"]}\n");
    EXPECT_EQ(m.ec, make_error_code(provider_errc::cli_failed));
    EXPECT_EQ(m.diag.provider_type, "error_max_turns");
}

TEST(claude_stream_json, big_lines_and_bad_json)
{
    std::string big(3 << 20, 'x');
    std::string s = "{\"type\":\"user\",\"message\":{\"content\":\"" + big + "\"}}\n"
                    "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"ok\"}\n";
    auto r = run_decoder(claude, s, {100, 1 << 20, 2 << 20, 3 << 20});
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.events.front(), "text:ok");

    EXPECT_EQ(run_whole(claude, "{\"type\":\n").ec, make_error_code(provider_errc::malformed_event));
    EXPECT_EQ(run_whole(claude, "").ec, make_error_code(provider_errc::stream_truncated));
}

TEST(claude_cli, args_and_prompt)
{
    provider_config cfg;
    cfg.cli_extra_args = {"--max-turns", "3"};
    chat_request req;
    req.model = "sonnet";
    req.system = "You are an architect.";
    req.messages = {message::user_text("Design a queue.")};
    auto args = claude_cli_args(cfg, req);
    std::vector<std::string> expected = {"-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages",
                                         "--model", "sonnet", "--system-prompt", "You are an architect.", "--max-turns", "3"};
    EXPECT_EQ(args, expected);
    EXPECT_EQ(claude_cli_prompt(req), "Design a queue.");

    req.system.clear();
    req.model.clear();
    args = claude_cli_args(cfg, req);
    EXPECT_EQ(std::count(args.begin(), args.end(), "--system-prompt"), 0);
    EXPECT_EQ(std::count(args.begin(), args.end(), "--model"), 0);

    req.messages.push_back(message::assistant_text("A ring buffer."));
    req.messages.push_back(message::user_text("Why?"));
    auto prompt = claude_cli_prompt(req);
    EXPECT_EQ(prompt, "User: Design a queue.\n\nAssistant: A ring buffer.\n\nUser: Why?");
}

}  // namespace
