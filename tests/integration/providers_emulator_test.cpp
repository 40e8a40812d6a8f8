// Each HTTP adapter (OpenAI Chat, OpenAI Responses, Anthropic, Gemini) through the REAL
// transport against the emulator: text, tool calls, usage, structured output, reasoning kept
// across a tool conversation (the emulator refuses a follow-up that drops it), prompt
// caching, every scripted fault kind mapped to the right error code, and TLS accepted with the
// emulator's CA and refused with another one.
#include <ep/emulator/emulator.hpp>
#include <ep/providers/error.hpp>
#include <ep/providers/factory.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace emu = ep::emulator;
namespace pv = ep::providers;
using namespace std::chrono_literals;

struct protocol
{
    const char* type;  // provider type and the emulator's protocol name
    std::string (emu::emulator::*base_url)() const;
};

std::string protocol_name(const ::testing::TestParamInfo<protocol>& info)
{
    return info.param.type;
}

/// One adapter (`proto_`) against its own emulator.
class adapter_fixture : public ::testing::Test
{
protected:
    explicit adapter_fixture(protocol p) : proto_(p) {}

    void SetUp() override { emulator_ = start({}); }

    void TearDown() override
    {
        for (auto& e : emulators_)
            e->stop();
    }

    emu::emulator* start(emu::emulator_config cfg)
    {
        cfg.zero_latency = true;  // only scripted delays apply
        emulators_.push_back(std::make_unique<emu::emulator>(cfg));
        emulators_.back()->start();
        return emulators_.back().get();
    }

    pv::provider_config config(const emu::emulator& e) const
    {
        pv::provider_config cfg;
        cfg.name = proto_.type;
        cfg.type = proto_.type;
        cfg.base_url = (e.*proto_.base_url)();
        cfg.api_key = "test-key-1234";
        cfg.available = true;
        cfg.capabilities = {"streaming", "system_prompt", "tools"};
        pv::model_info m;
        m.id = "emu-model";
        m.context_window = 100000;
        cfg.models.push_back(m);
        cfg.timeouts.connect = 2s;
        cfg.timeouts.first_byte = 400ms;
        cfg.timeouts.idle = 400ms;
        cfg.timeouts.total = 10s;
        return cfg;
    }

    static pv::chat_request request(const std::string& model = "emu-model")
    {
        pv::chat_request req;
        req.model = model;
        req.system = "You are a senior software architect.";
        req.messages.push_back(pv::message::user_text("Design a rate limiter."));
        req.max_tokens = 300;
        return req;
    }

    pv::call_result call(const pv::provider_config& cfg, const pv::chat_request& req)
    {
        auto provider = pv::make_provider(ctx_.get_executor(), cfg);
        std::optional<pv::call_result> out;
        std::exception_ptr error;
        asio::co_spawn(ctx_, pv::complete(*provider, req), [&](std::exception_ptr e, pv::call_result r) {
            error = e;
            out = std::move(r);
        });
        ctx_.restart();
        ctx_.run_for(15s);
        if (error)
            std::rethrow_exception(error);
        if (!out)
            throw std::runtime_error("the call did not complete");
        return std::move(*out);
    }

    pv::call_result call(const pv::chat_request& req) { return call(config(*emulator_), req); }

    /// The protocol requests the emulator logged.
    std::vector<emu::request_record> protocol_requests() const
    {
        std::vector<emu::request_record> out;
        for (auto& r : emulator_->requests())
            if (r.protocol == proto_.type)
                out.push_back(r);
        return out;
    }

    void fault(const std::string& spec)
    {
        std::string error;
        auto parsed = emu::parse_fault_spec(spec, &error);
        ASSERT_TRUE(parsed) << spec << ": " << error;
        emu::fault_rule rule;
        rule.fault = *parsed;
        emulator_->add_fault(rule);
    }

    protocol proto_;
    asio::io_context ctx_;
    std::vector<std::unique_ptr<emu::emulator>> emulators_;
    emu::emulator* emulator_ = nullptr;
};

class providers_emulator : public adapter_fixture, public ::testing::WithParamInterface<protocol>
{
protected:
    providers_emulator() : adapter_fixture(GetParam()) {}
};

class anthropic_emulator : public adapter_fixture
{
protected:
    anthropic_emulator() : adapter_fixture({"anthropic", &emu::emulator::anthropic_base_url}) {}
};

TEST_P(providers_emulator, streams_text_usage_and_a_clean_finish)
{
    const auto r = call(request());
    ASSERT_TRUE(r.status.ok()) << r.status.diag.to_string();
    EXPECT_NE(r.response.text.find("[emulated"), std::string::npos) << r.response.text;
    EXPECT_EQ(r.response.reason, pv::finish_reason::stop);
    EXPECT_GT(r.response.totals.input_tokens, 0);
    EXPECT_GT(r.response.totals.output_tokens, 0);
    const auto sent = protocol_requests();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].model, "emu-model");
    // The key reached the emulator only as a credential header, which its log redacts.
    EXPECT_EQ(sent[0].body.find("test-key-1234"), std::string::npos);
    for (const auto& [name, value] : sent[0].headers)
        EXPECT_EQ(value.find("test-key-1234"), std::string::npos) << name;
}

TEST_P(providers_emulator, offered_tool_comes_back_as_a_complete_tool_call)
{
    auto req = request();
    pv::tool_spec tool;
    tool.name = "get_weather";
    tool.description = "Current weather of a city";
    tool.parameters = {{"type", "object"},
                       {"required", {"city"}},
                       {"properties", {{"city", {{"type", "string"}}}}}};
    req.tools.push_back(tool);
    req.messages = {pv::message::user_text("What is the weather in Oslo?")};
    const auto r = call(req);
    ASSERT_TRUE(r.status.ok()) << r.status.diag.to_string();
    ASSERT_EQ(r.response.tool_calls.size(), 1u) << r.response.text;
    EXPECT_EQ(r.response.tool_calls[0].name, "get_weather");
    const auto args = nlohmann::json::parse(r.response.tool_calls[0].arguments, nullptr, false);
    ASSERT_TRUE(args.is_object()) << r.response.tool_calls[0].arguments;
    EXPECT_TRUE(args["city"].is_string()) << args;
    EXPECT_EQ(r.response.reason, pv::finish_reason::tool_calls);
}

struct fault_case
{
    std::string spec;
    pv::provider_errc expected;
};

TEST_P(providers_emulator, every_fault_kind_maps_to_its_error_code)
{
    const fault_case cases[] = {
        {"429,retry-after=2", pv::provider_errc::rate_limited},
        {"500", pv::provider_errc::overloaded},
        {"503", pv::provider_errc::overloaded},
        {"401", pv::provider_errc::auth_failed},
        {"400", pv::provider_errc::invalid_request},
        {"reset", pv::provider_errc::connect_failed},
        {"no-response", pv::provider_errc::first_byte_timeout},
        {"slow:1500", pv::provider_errc::first_byte_timeout},
        {"cut:3", pv::provider_errc::stream_truncated},
        {"stall:3", pv::provider_errc::idle_timeout},
        {"malformed:2", pv::provider_errc::malformed_event},
        {"context-length", pv::provider_errc::context_length_exceeded},
    };
    for (const auto& c : cases)
    {
        SCOPED_TRACE(c.spec);
        emulator_->reset();
        fault(c.spec);
        const auto r = call(request());
        EXPECT_EQ(r.status.ec, make_error_code(c.expected)) << r.status.ec.message() << " / " << r.status.diag.to_string();
        // A failed call never carries a finish: nothing partial may pass for an answer.
        EXPECT_FALSE(r.status.ok());
        if (c.expected == pv::provider_errc::rate_limited)
        {
            ASSERT_TRUE(r.status.diag.retry_after.has_value());
            EXPECT_EQ(*r.status.diag.retry_after, 2s);
            EXPECT_EQ(r.status.diag.http_status, 429);
        }
        if (c.expected == pv::provider_errc::auth_failed)
        {
            EXPECT_EQ(r.status.diag.to_string().find("test-key-1234"), std::string::npos);
        }
    }
}

// failoverbench S07 (first token after a long wait, headers at once) and S09 (a stall after
// some tokens, then a close): each is reported as what it is, quickly.
TEST_P(providers_emulator, first_token_and_stall_then_close_faults)
{
    auto cfg = config(*emulator_);
    cfg.timeouts.first_byte = 5s;
    cfg.timeouts.idle = 5s;
    cfg.timeouts.first_token = 300ms;
    fault("first-token:3000");
    auto start = std::chrono::steady_clock::now();
    auto r = call(cfg, request());
    EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::first_token_timeout)) << r.status.diag.to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);

    emulator_->reset();
    fault("first-token:200");  // within the limit: a normal answer
    cfg.timeouts.first_token = 2s;
    r = call(cfg, request());
    EXPECT_TRUE(r.status.ok()) << r.status.diag.to_string();

    emulator_->reset();
    fault("stall:4,for=600");
    cfg.timeouts.idle = 200ms;  // shorter than the stall: the idle timeout says so
    r = call(cfg, request());
    EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::idle_timeout)) << r.status.diag.to_string();

    emulator_->reset();
    fault("stall:4,for=300");
    cfg.timeouts.idle = 5s;  // longer than the stall: then the close cuts the stream
    r = call(cfg, request());
    EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::stream_truncated)) << r.status.diag.to_string();
}

TEST_P(providers_emulator, missing_terminal_marker)
{
    fault("no-terminal");
    const auto r = call(request());
    if (std::string(GetParam().type) == "openai")
    {
        // Only [DONE] is dropped: after a finish_reason chunk a clean end is a complete answer
        // (compatible servers omit [DONE]); a stream cut before the finish chunk is "cut:K".
        ASSERT_TRUE(r.status.ok()) << r.status.diag.to_string();
        EXPECT_EQ(r.response.reason, pv::finish_reason::stop);
    }
    else
    {
        // message_stop / the final finishReason is the only proof of a complete answer.
        EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::stream_truncated)) << r.status.diag.to_string();
    }
}

TEST_F(anthropic_emulator, in_stream_overload_is_retryable_overloaded)
{
    fault("overloaded:2");
    const auto r = call(request());
    EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::overloaded)) << r.status.diag.to_string();
    EXPECT_EQ(r.status.diag.provider_type, "overloaded_error");
    EXPECT_TRUE(pv::is_retryable(r.status.ec));
}

TEST_P(providers_emulator, content_filter_is_reported_as_a_refusal_never_a_plain_stop)
{
    fault("content-filter");
    const auto r = call(request());
    // Depending on the protocol the refusal is an HTTP error or a finish reason; either way it
    // is marked as content_filter.
    if (r.status.ok())
        EXPECT_EQ(r.response.reason, pv::finish_reason::content_filter) << r.response.raw_reason;
    else
        EXPECT_EQ(r.status.ec, make_error_code(pv::provider_errc::content_filter)) << r.status.diag.to_string();
}

TEST_P(providers_emulator, fail_first_n_then_succeed_on_the_same_connection_pool)
{
    fault("503,times=2");
    auto cfg = config(*emulator_);
    auto provider = pv::make_provider(ctx_.get_executor(), cfg);
    std::vector<bool> ok;
    for (int i = 0; i < 3; ++i)
    {
        const auto req = request();
        std::optional<pv::call_result> out;
        asio::co_spawn(ctx_, pv::complete(*provider, req), [&](std::exception_ptr e, pv::call_result r) {
            if (!e)
                out = std::move(r);
        });
        ctx_.restart();
        ctx_.run_for(10s);
        ASSERT_TRUE(out);
        ok.push_back(out->status.ok());
    }
    EXPECT_EQ(ok, (std::vector<bool>{false, false, true}));
    EXPECT_EQ(protocol_requests().size(), 3u);
}

TEST_P(providers_emulator, tls_is_accepted_with_the_emulators_ca_and_refused_with_another)
{
    emu::emulator_config tls;
    tls.tls = true;
    auto* secure = start(tls);
    auto* other = start(tls);  // a second, unrelated CA

    const auto dir = std::filesystem::temp_directory_path() / ("ep-tls-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    const auto write = [&](const std::string& name, const std::string& pem) {
        std::ofstream(dir / name) << pem;
        return (dir / name).string();
    };

    auto cfg = config(*secure);
    ASSERT_EQ(cfg.base_url.rfind("https://", 0), 0u) << cfg.base_url;
    cfg.ca_file = write("right.pem", secure->ca_pem());
    const auto good = call(cfg, request());
    EXPECT_TRUE(good.status.ok()) << good.status.diag.to_string();

    cfg.ca_file = write("wrong.pem", other->ca_pem());
    const auto bad = call(cfg, request());
    EXPECT_EQ(bad.status.ec, make_error_code(pv::provider_errc::tls_failed)) << bad.status.diag.to_string();

    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST_P(providers_emulator, structured_output_is_asked_natively_and_fits_the_schema)
{
    auto req = request();
    const nlohmann::json schema = {{"type", "object"},
                                   {"properties", {{"title", {{"type", "string"}}}, {"steps", {{"type", "integer"}}}}},
                                   {"required", {"title", "steps"}},
                                   {"additionalProperties", false}};
    req.json_mode = pv::json_output{schema, "plan"};
    const auto r = call(req);
    ASSERT_TRUE(r.status.ok()) << r.status.diag.to_string();
    const auto value = nlohmann::json::parse(r.response.text, nullptr, false);
    ASSERT_TRUE(value.is_object()) << r.response.text;
    EXPECT_TRUE(value["title"].is_string());
    EXPECT_TRUE(value["steps"].is_number_integer());
    // The request carried the protocol's native field, not only an instruction.
    const std::string body = protocol_requests().back().body;
    const char* native = std::string(proto_.type) == "anthropic" ? "\"output_config\""
                         : std::string(proto_.type) == "gemini"  ? "\"responseJsonSchema\""
                         : std::string(proto_.type) == "openai"  ? "\"json_schema\""
                                                                 : "\"format\"";
    EXPECT_NE(body.find(native), std::string::npos) << body;
}

TEST_P(providers_emulator, reasoning_is_kept_across_a_tool_conversation)
{
    auto req = request();
    req.reasoning = pv::reasoning_effort::high;
    pv::tool_spec tool{"get_weather", "Current weather",
                       {{"type", "object"}, {"required", {"city"}}, {"properties", {{"city", {{"type", "string"}}}}}}};
    req.tools = {tool};
    req.messages = {pv::message::user_text("What is the weather in Oslo?")};
    const auto first = call(req);
    ASSERT_TRUE(first.status.ok()) << first.status.diag.to_string();
    ASSERT_EQ(first.response.tool_calls.size(), 1u);
    EXPECT_EQ(first.response.text.find("reasoning"), std::string::npos) << "reasoning is never answer text";
    if (std::string(proto_.type) != "anthropic")  // Anthropic counts thinking inside output_tokens
    {
        EXPECT_EQ(first.response.totals.reasoning_tokens, 256);
    }
    EXPECT_GE(first.response.totals.output_tokens, first.response.totals.reasoning_tokens);

    // The follow-up carries the assistant turn as received (thinking blocks, signatures).
    req.messages.push_back(first.response.to_message());
    req.messages.push_back(pv::message{
        pv::role::tool, {pv::tool_result{first.response.tool_calls[0].id, "get_weather", "-3C, snow", false}}});
    const auto second = call(req);
    ASSERT_TRUE(second.status.ok()) << second.status.diag.to_string();
    EXPECT_NE(second.response.text.find("-3C"), std::string::npos) << second.response.text;

    // Dropping what the provider needs back is refused (the emulator checks, as they do).
    auto stripped = req;
    auto& turn = stripped.messages[1].parts;
    std::erase_if(turn, [](const pv::content_part& p) { return std::holds_alternative<pv::thinking_part>(p); });
    for (auto& p : turn)
        if (auto* c = std::get_if<pv::tool_call>(&p))
            c->signature.clear();
    if (std::string(proto_.type) != "openai")  // Chat Completions has nothing to keep
    {
        const auto refused = call(stripped);
        EXPECT_EQ(refused.status.ec, make_error_code(pv::provider_errc::invalid_request))
            << refused.status.diag.to_string();
    }
}

TEST_F(anthropic_emulator, a_long_system_prompt_is_cached_and_read_back)
{
    auto req = request();
    req.system = std::string(8000, 'x');
    const auto first = call(req);
    ASSERT_TRUE(first.status.ok()) << first.status.diag.to_string();
    EXPECT_GT(first.response.totals.cache_creation_input_tokens, 1000);
    EXPECT_EQ(first.response.totals.cached_input_tokens, 0);
    const auto second = call(req);
    EXPECT_EQ(second.response.totals.cached_input_tokens, first.response.totals.cache_creation_input_tokens);
    EXPECT_EQ(second.response.totals.cache_creation_input_tokens, 0);
    EXPECT_EQ(second.response.totals.input_tokens, first.response.totals.input_tokens) << "cached tokens are input";
    EXPECT_NE(protocol_requests().back().body.find("\"cache_control\""), std::string::npos);

    req.cache.enabled = false;
    const auto off = call(req);
    EXPECT_EQ(off.response.totals.cached_input_tokens, 0);
    EXPECT_EQ(protocol_requests().back().body.find("cache_control"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(adapters, providers_emulator,
                         ::testing::Values(protocol{"openai", &emu::emulator::openai_base_url},
                                           protocol{"openai_responses", &emu::emulator::openai_base_url},
                                           protocol{"anthropic", &emu::emulator::anthropic_base_url},
                                           protocol{"gemini", &emu::emulator::gemini_base_url}),
                         protocol_name);

}  // namespace
