// Randomised requests through the whole handler layer without a socket: thousands of mutated
// raw HTTP messages (Beast's parser with the server's limits), random targets built from the
// route table, hostile headers and mutated JSON bodies. Each must get exactly one response, a
// 2xx–4xx or a deliberate 5xx (503 when no provider is configured) — never a 500, an
// exception or a hang — and the server must still answer afterwards.
#include "server_fixture.hpp"

#include <boost/asio/co_spawn.hpp>

#include <random>

namespace ep::server::test {
namespace {

class memory_sink final : public response_sink
{
public:
    asio::awaitable<boost::system::error_code> send(response res) override
    {
        ++responses;
        status = res.result_int();
        body = res.body();
        started_ = true;
        co_return boost::system::error_code{};
    }
    asio::awaitable<boost::system::error_code> start_stream(http::response<http::empty_body> head) override
    {
        ++responses;
        status = head.result_int();
        started_ = true;
        co_return boost::system::error_code{};
    }
    asio::awaitable<boost::system::error_code> write(std::string_view data) override
    {
        body += data;
        co_return boost::system::error_code{};
    }
    asio::awaitable<boost::system::error_code> finish() override { co_return boost::system::error_code{}; }
    bool started() const noexcept override { return started_; }

    int responses = 0;
    unsigned status = 0;
    std::string body;

private:
    bool started_ = false;
};

class request_fuzz : public ::testing::Test
{
protected:
    void SetUp() override
    {
        dir_ = fresh_dir("ep-serve-fuzz-");
        runtime::runtime_config rc;
        rc.env = ep::environment::from_map({});  // no provider: nothing runs, nothing leaves
        rc.workflows_dir = std::filesystem::path(EP_SOURCE_DIR) / "workflows";
        rc.store = (dir_ / "runs.db").string();
        rc.logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
        rt_ = std::make_unique<runtime::runtime>(ioc_.get_executor(), rc);
        ASSERT_TRUE(rt_->open_store());
        server_config cfg;
        cfg.sse_heartbeat = 50ms;
        srv_ = std::make_unique<server>(ioc_, *rt_, cfg);
    }
    void TearDown() override
    {
        srv_.reset();
        rt_.reset();
        ioc_.run();
        std::filesystem::remove_all(dir_);
    }

    memory_sink dispatch(const request& req)
    {
        memory_sink sink;
        bool done = false;
        std::exception_ptr failure;
        asio::co_spawn(ioc_, srv_->get_impl().handle(req, sink, "127.0.0.1"), [&](std::exception_ptr e) {
            failure = e;
            done = true;
        });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!done && std::chrono::steady_clock::now() < deadline)
            ioc_.run_for(5ms);
        ioc_.restart();
        EXPECT_TRUE(done) << req.method_string() << " " << req.target() << " did not finish";
        EXPECT_FALSE(failure) << req.target();
        return sink;
    }

    void check(const request& req, const memory_sink& s)
    {
        ASSERT_EQ(s.responses, 1) << req.method_string() << " " << req.target();
        EXPECT_GE(s.status, 200u);
        EXPECT_LT(s.status, 600u);
        EXPECT_NE(s.status, 500u) << req.method_string() << " " << req.target() << "\n" << req.body() << "\n" << s.body;
        if (s.status >= 400 && !s.body.empty())
        {
            auto j = json::parse(s.body, nullptr, false);
            EXPECT_TRUE(j.is_object() && j["error"].is_object() && j["error"]["message"].is_string()) << s.body;
        }
    }

    std::mt19937_64 rng{20260101};
    std::filesystem::path dir_;
    std::ostringstream log_;
    asio::io_context ioc_;
    std::unique_ptr<runtime::runtime> rt_;
    std::unique_ptr<server> srv_;
};

std::string random_bytes(std::mt19937_64& rng, std::size_t n)
{
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng() & 0xff);
    return s;
}

// A JSON value with the types swapped, truncated, or with bytes flipped.
std::string mutate(std::mt19937_64& rng, const json& seed)
{
    json j = seed;
    const json odd[] = {nullptr, 7, -1, 1e308, true, "", std::string(3000, 'z'), json::array(), json::object(),
                        json::array({1, "x", nullptr}), json::parse(R"({"a":{"b":{"c":[[[[]]]]}}})")};
    if (j.is_object() && !j.empty() && rng() % 2)
    {
        auto it = j.begin();
        std::advance(it, static_cast<long>(rng() % j.size()));
        *it = odd[rng() % std::size(odd)];
    }
    if (rng() % 3 == 0)
        j["extra_" + std::to_string(rng() % 5)] = odd[rng() % std::size(odd)];
    std::string text = j.dump();
    switch (rng() % 5)
    {
    case 0: text = text.substr(0, rng() % (text.size() + 1)); break;
    case 1:
        for (int i = 0; i < 3 && !text.empty(); ++i)
            text[rng() % text.size()] = static_cast<char>(rng() & 0xff);
        break;
    case 2: text.insert(rng() % (text.size() + 1), random_bytes(rng, rng() % 16)); break;
    default: break;
    }
    return text;
}

const std::vector<json>& body_seeds()
{
    static const std::vector<json> seeds = {
        {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}},
        {{"yaml", "name: t\nphases:\n  a: {persona: architect, prompt: hi}\n"}, {"config", "B"}},
        {{"yaml", "name: [\n"}},
        {{"model", "persona/architect"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"stream", true}},
        {{"model", "openai/gpt-6.2-sol"}, {"messages", {{{"role", "tool"}, {"tool_call_id", "1"}}}},
         {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}}, {"response_format", {{"type", "json_schema"}}}},
        {{"config", "C"}, {"fail_fast", true}},
        json::object(),
    };
    return seeds;
}

std::string random_segment(std::mt19937_64& rng)
{
    static const std::string pieces[] = {"20260101T000000Z-00000000", "design", "..", "%2e%2e", "%00", "a b", "x",
                                         std::string(5000, 'r'), "ü", "{id}", "", "events", "-"};
    return pieces[rng() % std::size(pieces)];
}

TEST_F(request_fuzz, thousands_of_random_requests_each_get_one_sane_response)
{
    const http::verb verbs[] = {http::verb::get, http::verb::post, http::verb::delete_, http::verb::put,
                                http::verb::options, http::verb::patch};
    const auto routes = srv_->routes();
    int n = 0;
    for (; n < 3000; ++n)
    {
        request req;
        req.version(11);
        req.method(verbs[rng() % std::size(verbs)]);
        const auto& [verb, pattern] = routes[rng() % routes.size()];
        if (rng() % 3)
            req.method(http::string_to_verb(verb));
        std::string target;
        for (std::size_t pos = 0; pos < pattern.size();)
        {
            auto open = pattern.find('{', pos);
            if (open == std::string::npos)
            {
                target += pattern.substr(pos);
                break;
            }
            target += pattern.substr(pos, open - pos) + random_segment(rng);
            pos = pattern.find('}', open) + 1;
        }
        if (rng() % 4 == 0)
            target += "?status=" + random_segment(rng) + "&limit=" + std::to_string(static_cast<int>(rng() % 400) - 100) +
                      "&cursor=" + random_segment(rng) + "&last_event_id=" + random_segment(rng);
        if (rng() % 10 == 0)
            target = random_bytes(rng, rng() % 40);
        req.target(target);
        if (rng() % 3 == 0)
            req.set("Last-Event-ID", rng() % 2 ? random_bytes(rng, rng() % 30) : "3~a:1:2~b:done");
        if (rng() % 4 == 0)
            req.set("x-ep-mix", rng() % 2 ? "D" : random_segment(rng));
        if (req.method() == http::verb::post)
            req.body() = rng() % 8 == 0 ? random_bytes(rng, rng() % 200) : mutate(rng, body_seeds()[rng() % body_seeds().size()]);
        req.prepare_payload();
        auto s = dispatch(req);
        check(req, s);
        if (HasFatalFailure())
            break;
    }
    EXPECT_EQ(n, 3000);
    request health;
    health.version(11);
    health.method(http::verb::get);
    health.target("/healthz");
    EXPECT_EQ(dispatch(health).status, 200u);
}

TEST_F(request_fuzz, mutated_raw_http_through_the_parser_with_the_server_limits)
{
    const std::vector<std::string> seeds = {
        "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"workflow\":\"sdlc\",\"x\":1}\r\n",
        "GET /v1/runs?status=running&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/runs/abc/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 5~a:1:2\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n",
    };
    int parsed = 0;
    for (int i = 0; i < 3000; ++i)
    {
        std::string raw = seeds[rng() % seeds.size()];
        for (int k = 0, flips = static_cast<int>(rng() % 4); k < flips; ++k)
            raw[rng() % raw.size()] = static_cast<char>(rng() & 0xff);
        if (rng() % 4 == 0)
            raw = raw.substr(0, rng() % raw.size());
        http::request_parser<http::string_body> p;
        p.header_limit(16 * 1024);
        p.body_limit(4 << 20);
        p.eager(true);
        beast::error_code ec;
        p.put(asio::buffer(raw), ec);
        if (ec || !p.is_done())
            continue;
        ++parsed;
        auto req = p.release();
        auto s = dispatch(req);
        check(req, s);
        if (HasFatalFailure())
            break;
    }
    EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace ep::server::test
