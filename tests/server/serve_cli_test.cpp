// ep-serve's flags: each one lands in the configuration the server and runtime are built from
// (the in-process tests then prove what each configuration field does), and usage errors are
// exit 2 with a message.
#include <ep/server/serve_cli.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

namespace ep::server::test {
namespace {

using namespace std::chrono_literals;

struct parsed
{
    std::optional<serve_options> options;
    int code = -1;
    std::string out, err;
};

parsed parse(std::vector<std::string> args, std::map<std::string, std::string> env = {})
{
    args.insert(args.begin(), "ep-serve");
    parsed p;
    std::ostringstream out, err;
    p.options = parse_serve_args(args, ep::environment::from_map(env), out, err, p.code);
    p.out = out.str();
    p.err = err.str();
    return p;
}

TEST(serve_cli, defaults)
{
    auto p = parse({});
    ASSERT_TRUE(p.options) << p.err;
    const auto& s = p.options->server;
    EXPECT_EQ(s.listen, "127.0.0.1:8080");
    EXPECT_TRUE(s.tokens.empty());
    EXPECT_EQ(s.rate_limit, 0);
    EXPECT_EQ(s.default_mix, "A");
    EXPECT_TRUE(s.resume_owned_runs);
    EXPECT_FALSE(s.allow_inline_providers);
    EXPECT_EQ(s.sse_heartbeat, 15s);
    EXPECT_EQ(s.shutdown_grace, 10s);
    EXPECT_EQ(s.max_body_bytes, 4u << 20);
    EXPECT_FALSE(p.options->emulate);
}

TEST(serve_cli, every_flag_lands_in_the_configuration)
{
    const auto dir = std::filesystem::temp_directory_path() / ("ep-serve-cli-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    const auto tokens = file("tokens", "# ops\nfile-token\n");
    const auto personas = file("personas.yaml", "personas: {}\n");
    const auto cert = file("cert.pem", "x"), key = file("key.pem", "x");
    auto p = parse({"--listen", "0.0.0.0:9000", "--db", "sqlite:/tmp/x.db", "--durability", "full", "--workflows",
                    dir.string(), "--personas", personas, "--config", "d", "--tokens-file", tokens, "--rate-limit",
                    "5", "--rate-burst", "7", "--cors-origin", "http://ui.example", "--tls-cert", cert, "--tls-key", key,
                    "--instance", "edge-1", "--max-body", "1000", "--sse-heartbeat", "0.5", "--shutdown-grace", "3",
                    "--allow-inline-providers", "--no-resume", "--emulate"},
                   {{"EP_SERVE_TOKENS", "env-a, env-b"}});
    ASSERT_TRUE(p.options) << p.err;
    const auto& o = *p.options;
    const auto& s = o.server;
    EXPECT_EQ(s.listen, "0.0.0.0:9000");
    EXPECT_EQ(o.db, "sqlite:/tmp/x.db");
    EXPECT_EQ(o.durability, "full");
    ASSERT_EQ(s.workflow_dirs.size(), 1u);
    EXPECT_EQ(s.workflow_dirs[0].string(), dir.string());
    ASSERT_TRUE(o.personas_file);
    EXPECT_EQ(o.personas_file->string(), personas);
    EXPECT_EQ(s.default_mix, "D");
    EXPECT_EQ(s.tokens, (std::vector<std::string>{"env-a", "env-b", "file-token"}));
    EXPECT_EQ(s.rate_limit, 5);
    EXPECT_EQ(s.rate_burst, 7);
    EXPECT_EQ(s.cors_origin, "http://ui.example");
    EXPECT_EQ(s.tls_cert.string(), cert);
    EXPECT_EQ(s.tls_key.string(), key);
    EXPECT_EQ(o.instance, "edge-1");
    EXPECT_EQ(s.max_body_bytes, 1000u);
    EXPECT_EQ(s.sse_heartbeat, 500ms);
    EXPECT_EQ(s.shutdown_grace, 3s);
    EXPECT_TRUE(s.allow_inline_providers);
    EXPECT_FALSE(s.resume_owned_runs);
    EXPECT_TRUE(o.emulate);
    std::filesystem::remove_all(dir);
}

TEST(serve_cli, usage_errors_are_exit_2_with_a_message)
{
    for (const auto& args : std::vector<std::vector<std::string>>{{"--bogus"},
                                                                  {"--config", "Z"},
                                                                  {"--durability", "sometimes"},
                                                                  {"--rate-limit", "-1"},
                                                                  {"--max-body", "0"},
                                                                  {"--tokens-file", "/nonexistent/tokens"},
                                                                  {"--workflows", "/nonexistent/dir"}})
    {
        auto p = parse(args);
        EXPECT_FALSE(p.options) << args[0];
        EXPECT_EQ(p.code, 2) << args[0];
        EXPECT_FALSE(p.err.empty()) << args[0];
    }
    const auto empty = std::filesystem::temp_directory_path() / ("ep-serve-empty-tokens-" + std::to_string(::getpid()));
    std::ofstream(empty) << "# nothing\n";
    auto p = parse({"--tokens-file", empty.string()});
    EXPECT_FALSE(p.options);
    EXPECT_EQ(p.code, 2);
    EXPECT_NE(p.err.find("holds no token"), std::string::npos) << p.err;
    std::filesystem::remove(empty);
    auto help = parse({"--help"});
    EXPECT_FALSE(help.options);
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--tokens-file"), std::string::npos);
}

}  // namespace
}  // namespace ep::server::test
