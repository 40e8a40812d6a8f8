// The codec table, the per-type options read by the providers module, and the one Claude
// Code CLI lookup.
#include "sansio_private.hpp"

#include <ep/common/env.hpp>
#include <ep/providers/options.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace {

using namespace ep::providers;
using nlohmann::json;

TEST(codec_table, every_type_has_a_complete_codec)
{
    const auto types = known_provider_types();
    for (const char* t : {"openai", "openai_responses", "anthropic", "gemini", "claude_agent"})
        EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
    for (auto const& row : sansio::protocol_table())
    {
        EXPECT_EQ(sansio::find_protocol(row.type), &row) << row.type;
        if (auto const* http = std::get_if<sansio::http_codec>(&row.codec))
        {
            EXPECT_TRUE(http->encode && http->make_decoder && http->classify_error) << row.type;
            EXPECT_TRUE(http->make_decoder()) << row.type;
        }
        else
        {
            auto const& cli = std::get<sansio::cli_codec>(row.codec);
            EXPECT_TRUE(cli.args && cli.stdin_text && cli.make_decoder) << row.type;
        }
        EXPECT_EQ(row.parse_options == nullptr, row.option_keys == nullptr) << row.type;
    }
    EXPECT_EQ(sansio::find_protocol("opneai"), nullptr);
}

TEST(parse_type_options, reads_the_options_of_the_type_and_only_those_present)
{
    provider_config cfg;
    cfg.type = "openai";
    std::vector<std::string> errors;
    parse_type_options(json{{"azure_api_version", "2024-10-21"}, {"use_max_completion_tokens", true}}, cfg, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(cfg.azure_api_version, "2024-10-21");
    EXPECT_TRUE(cfg.use_max_completion_tokens);
    // An inline override that restates one option leaves the other as it was.
    parse_type_options(json{{"use_max_completion_tokens", false}}, cfg, errors);
    EXPECT_EQ(cfg.azure_api_version, "2024-10-21");
    EXPECT_FALSE(cfg.use_max_completion_tokens);

    provider_config cli;
    cli.type = "claude_agent";
    parse_type_options(json{{"cli", "/opt/bin/claude"}, {"cli_env", "MY_CLAUDE"}, {"cli_args", {"--max-turns", "3"}}},
                       cli, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(cli.cli_path, "/opt/bin/claude");
    EXPECT_EQ(cli.cli_env, "MY_CLAUDE");
    EXPECT_EQ(cli.cli_extra_args, (std::vector<std::string>{"--max-turns", "3"}));
}

TEST(parse_type_options, names_each_bad_value_misplaced_option_and_unknown_type)
{
    provider_config cfg;
    cfg.type = "claude_agent";
    std::vector<std::string> errors;
    parse_type_options(json{{"cli_args", {"ok", 3}}, {"cli_env", "1BAD"}, {"azure_api_version", "x"}}, cfg, errors);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0], "azure_api_version applies to type openai or openai_responses, not claude_agent");
    EXPECT_NE(errors[1].find("cli_env"), std::string::npos) << errors[1];
    EXPECT_NE(errors[2].find("cli_args must be a list of strings"), std::string::npos) << errors[2];
    EXPECT_TRUE(cfg.cli_extra_args.empty()) << "a bad value is not half-applied";
    EXPECT_EQ(cfg.cli_env, "EP_CLAUDE_CLI");

    // With the node already checked against the schema, a mistyped value is skipped, not
    // reported twice; a misplaced option is still reported (the schema cannot tell).
    errors.clear();
    parse_type_options(json{{"cli_args", 3}, {"use_max_completion_tokens", true}}, cfg, errors, true);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "use_max_completion_tokens applies to type openai or openai_responses, not claude_agent");

    errors.clear();
    cfg.type = "gemini";
    parse_type_options(json{{"use_max_completion_tokens", "yes"}}, cfg, errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "use_max_completion_tokens applies to type openai or openai_responses, not gemini");

    errors.clear();
    cfg.type = "opneai";
    parse_type_options(json::object(), cfg, errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("unknown provider type 'opneai' (expected openai, "), std::string::npos) << errors[0];
}

class locate_claude_cli_test : public ::testing::Test
{
protected:
    std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                 ("ep-locate-cli-" + std::to_string(::getpid()));
    void SetUp() override
    {
        std::filesystem::create_directories(dir_ / "a");
        std::filesystem::create_directories(dir_ / "b");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string file(const std::string& rel, bool executable)
    {
        auto p = dir_ / rel;
        std::ofstream(p) << "#!/bin/sh\n";
        using std::filesystem::perms;
        std::filesystem::permissions(p, executable ? perms::owner_all : perms::owner_read);
        return p.string();
    }
    static provider_config cfg(std::string cli = "claude")
    {
        provider_config c;
        c.name = "claude_code";
        c.type = "claude_agent";
        c.cli_path = std::move(cli);
        return c;
    }
};

TEST_F(locate_claude_cli_test, the_variable_wins_then_the_configured_path_then_path)
{
    const auto named = file("a/named", true);
    const auto on_path = file("b/claude", true);
    auto env = ep::environment::from_map({{"EP_CLAUDE_CLI", named}, {"PATH", (dir_ / "b").string()}});
    EXPECT_EQ(locate_claude_cli(cfg(), env).path, named);
    EXPECT_TRUE(locate_claude_cli(cfg(), env).problem.empty());

    auto custom_var = cfg();
    custom_var.cli_env = "MY_CLAUDE";
    EXPECT_EQ(locate_claude_cli(custom_var, env).path, on_path) << "EP_CLAUDE_CLI is not this provider's variable";

    env = ep::environment::from_map({{"PATH", (dir_ / "b").string()}});
    EXPECT_EQ(locate_claude_cli(cfg(named), env).path, named);
    EXPECT_EQ(locate_claude_cli(cfg(), env).path, on_path);
}

TEST_F(locate_claude_cli_test, path_lookup_prefers_an_executable_and_says_what_is_wrong)
{
    file("a/claude", false);
    const auto good = file("b/claude", true);
    const std::string path = (dir_ / "a").string() + ":" + (dir_ / "b").string();
    auto found = locate_claude_cli(cfg(), ep::environment::from_map({{"PATH", path}}));
    EXPECT_EQ(found.path, good);
    EXPECT_TRUE(found.problem.empty());

    auto only_bad = locate_claude_cli(cfg(), ep::environment::from_map({{"PATH", (dir_ / "a").string()}}));
    EXPECT_EQ(only_bad.path, (dir_ / "a" / "claude").string());
    EXPECT_NE(only_bad.problem.find("is not an executable file"), std::string::npos) << only_bad.problem;

    auto none = locate_claude_cli(cfg(), ep::environment::from_map({{"PATH", "/nonexistent"}}));
    EXPECT_TRUE(none.path.empty());
    EXPECT_NE(none.problem.find("set EP_CLAUDE_CLI"), std::string::npos) << none.problem;
    auto missing_file = locate_claude_cli(cfg((dir_ / "nope").string()), ep::environment::from_map({}));
    EXPECT_NE(missing_file.problem.find("nope"), std::string::npos) << missing_file.problem;
}

TEST_F(locate_claude_cli_test, a_dotenv_file_names_the_cli)
{
    const auto named = file("a/from-dotenv", true);
    std::ofstream(dir_ / ".env") << "EP_CLAUDE_CLI=" << named << "\n";
    ::unsetenv("EP_CLAUDE_CLI");
    auto env = ep::environment::load(dir_ / ".env");
    EXPECT_EQ(locate_claude_cli(cfg(), env).path, named);
}

}  // namespace
