#pragma once
// Helpers for the executor tests: a provider answered by a function of the request (real
// timers, so overlap and timeouts are measured for real, in milliseconds), and a fixture with
// a temporary SQLite store and a policy whose personas map onto the fake providers.

#include "io_fixture.hpp"

#include <ep/engine/loader.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/engine/run/executor.hpp>
#include <ep/persistence/async_store.hpp>
#include <ep/persistence/sqlite_store.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>
#include <utility>

namespace ep::engine::exec_test {

namespace asio = boost::asio;
namespace pv = ep::providers;
namespace ps = ep::persistence;
using namespace std::chrono_literals;
using ps::phase_status;
using ps::run_status;

struct fake_reply
{
    fake_reply(std::string t = "ok", std::chrono::milliseconds d = std::chrono::milliseconds(0))
        : text(std::move(t)), delay(d)
    {
    }
    std::string text;
    std::chrono::milliseconds delay{0};
    bool hang = false;
    boost::system::error_code fail;  // non-empty: fail before any output
    pv::usage usage{10, 20, 0, std::nullopt};
    std::vector<pv::tool_call> tool_calls;  // sent after the text; the answer then asks for them
};

class fake_provider final : public pv::provider
{
public:
    using answer_fn = std::function<fake_reply(const pv::chat_request&)>;

    fake_provider(std::string name, answer_fn fn) : fn_(std::move(fn))
    {
        cfg_.name = std::move(name);
        cfg_.type = "openai";
        cfg_.available = true;
        pv::model_info m1;
        m1.id = "m1";
        m1.input_price_per_mtok = 1.0;
        m1.output_price_per_mtok = 2.0;
        cfg_.models.push_back(std::move(m1));
    }

    const pv::provider_config& config() const noexcept override { return cfg_; }

    asio::awaitable<pv::call_status> stream_chat(const pv::chat_request& req, pv::event_channel& out) override
    {
        const auto phase = req.metadata.count("phase") ? req.metadata.at("phase") : std::string{};
        requests.push_back(req);
        log.push_back("start:" + phase);
        ++in_flight;
        max_in_flight = std::max(max_in_flight, in_flight);
        auto r = fn_(req);
        asio::steady_timer t(co_await asio::this_coro::executor);
        pv::call_status status;
        if (r.delay.count() > 0 || r.hang)
        {
            t.expires_after(r.hang ? std::chrono::milliseconds(1h) : r.delay);
            auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec)
            {
                --in_flight;
                log.push_back("cancelled:" + phase);
                status.ec = asio::error::operation_aborted;
                co_return status;
            }
        }
        if (r.fail)
        {
            --in_flight;
            log.push_back("failed:" + phase);
            status.ec = r.fail;
            status.diag.message = "scripted failure";
            co_return status;
        }
        // Named events: g++ 12 mis-destroys temporaries in a co_await's full expression.
        std::vector<pv::stream_event> evs;
        evs.emplace_back(pv::text_delta_event{r.text});
        for (std::size_t i = 0; i < r.tool_calls.size(); ++i)
            evs.emplace_back(pv::tool_call_complete_event{static_cast<int>(i), r.tool_calls[i]});
        evs.emplace_back(pv::usage_event{r.usage});
        evs.emplace_back(pv::finish_event{r.tool_calls.empty() ? pv::finish_reason::stop : pv::finish_reason::tool_calls, {}});
        for (auto& ev : evs)
        {
            boost::system::error_code none;
            co_await out.async_send(none, std::move(ev), asio::as_tuple(asio::use_awaitable));
        }
        --in_flight;
        log.push_back("end:" + phase);
        co_return status;
    }

    std::vector<pv::chat_request> requests;
    std::vector<std::string> log;
    int in_flight = 0;
    int max_in_flight = 0;

    int calls_for(const std::string& phase) const
    {
        int n = 0;
        for (const auto& r : requests)
            if (r.metadata.count("phase") && r.metadata.at("phase") == phase)
                ++n;
        return n;
    }

private:
    pv::provider_config cfg_;
    answer_fn fn_;
};

/// The last user message's text of a request.
inline std::string last_user_text(const pv::chat_request& req)
{
    for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it)
        if (it->who == pv::role::user)
            return it->text();
    return {};
}

class executor_fixture : public ep::test::io_fixture
{
protected:
    executor_fixture()
    {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() / ("ep-exec-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(dir_);
        workspace_.base = dir_ / "workspaces";  // never the test's working directory
        open_store();
        // Personas: "writer" -> p1, "other" -> p2.
        add_persona("writer", "p1");
        add_persona("other", "p2");
    }

    ~executor_fixture() override
    {
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void TearDown() override
    {
        // Join the store's writer thread first: it drops its work guard on our io_context only
        // after posting a completion, which the leftover-work check would otherwise race.
        store_.reset();
        io_fixture::TearDown();
    }

    void open_store(ps::sqlite_options options = {})
    {
        store_.reset();
        auto opened = ps::sqlite_store::open(dir_ / "runs.db", std::move(options));
        if (!opened)
            throw std::runtime_error(opened.error().to_string());
        store_ = std::make_unique<ps::async_store>(std::shared_ptr<ps::store>(std::move(*opened)));
    }

    void add_persona(const std::string& name, const std::string& provider)
    {
        persona_spec p;
        p.name = name;
        p.system = "You are " + name + ".";
        p.provider_preferences.push_back({provider, "m1", {}});
        pol_.personas[name] = p;
    }

    fake_provider& add_provider(const std::string& name, fake_provider::answer_fn fn)
    {
        auto p = std::make_shared<fake_provider>(name, std::move(fn));
        providers_[name] = p;
        pol_.providers[name] = p->config();
        return *p;
    }

    /// Loads and compiles `yaml` (asserting it is valid).
    void load(const std::string& yaml)
    {
        diagnostics diag;
        auto spec = load_workflow_string(yaml, "test.yaml", diag);
        ASSERT_TRUE(spec) << (diag.items().empty() ? std::string("?") : diag.items().front().str());
        spec_ = std::make_unique<workflow_spec>(std::move(*spec));
        auto g = compile(*spec_, &pol_, diag);
        ASSERT_TRUE(g) << (diag.items().empty() ? std::string("?") : diag.items().front().str());
        graph_ = std::make_unique<dag>(std::move(*g));
        yaml_ = yaml;
    }

    ps::result<run_outcome> run_workflow(executor_options opts = {}, std::string resume = {}, run_control* control = nullptr,
                                         std::map<std::string, std::string> inputs = {})
    {
        failover_executor failover(failover_opts_);
        opts.heartbeat_interval = std::min(opts.heartbeat_interval, std::chrono::milliseconds(50));
        workflow_executor ex(*store_, pol_, [this](const phase_spec& ph, std::int64_t tokens) { return build_candidates(ph, pol_, providers_, tokens); },
                             failover, opts);
        run_request req;
        req.spec = spec_.get();
        req.graph = graph_.get();
        req.definition = yaml_;
        req.inputs = std::move(inputs);
        req.mix = "A";
        req.resume_run_id = std::move(resume);
        req.max_cost_usd = max_cost_;
        req.decision = std::exchange(decision_, std::nullopt);
        req.workspace = workspace_;
        return run(ex.run(std::move(req), sink, control));
    }

    ps::store& db() { return store_->sync(); }

    static failover_options quick_retries()
    {
        failover_options fo;
        fo.retry.base_delay = 1ms;
        fo.retry.max_delay = 2ms;
        fo.retry.min_spacing = 1ms;
        return fo;
    }

    std::filesystem::path dir_;
    std::unique_ptr<ps::async_store> store_;
    failover_options failover_opts_ = quick_retries();  // what run_workflow's failover uses
    policy pol_;
    provider_map providers_;
    std::unique_ptr<workflow_spec> spec_;
    std::unique_ptr<dag> graph_;
    std::string yaml_;
    collecting_sink sink;
    std::optional<double> max_cost_;                  // run_request::max_cost_usd of every run
    std::optional<approval_decision> decision_;       // run_request::decision of the next run only
    workspace_request workspace_;                     // run_request::workspace of every run
};

}  // namespace ep::engine::exec_test
