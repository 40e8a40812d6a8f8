// runtime: the shared parts (logger, pool, failover, store) and the run/resume/list/show
// operations every front end calls.
#include "runtime_impl.hpp"

#include <ep/common/logging.hpp>
#include <ep/engine/loader.hpp>
#include <ep/runtime/otel.hpp>

#include <spdlog/logger.h>

#include <cstdlib>

namespace ep::runtime {

namespace ps = ep::persistence;

namespace {

std::optional<std::chrono::milliseconds> env_timeout(const ep::environment& env)
{
    if (auto v = env.get("EP_TIMEOUT"))
    {
        char* end = nullptr;
        const double secs = std::strtod(v->c_str(), &end);
        if (end && *end == '\0' && secs > 0)
            return std::chrono::milliseconds(static_cast<std::int64_t>(secs * 1000));
    }
    return std::nullopt;
}

}  // namespace

runtime::impl::impl(asio::any_io_executor executor, runtime_config config)
    : ex(std::move(executor)), cfg(std::move(config)), log(cfg.logger),
      pool(std::make_shared<providers::connection_pool>()), time(engine::make_steady_time_source())
{
    if (!log)
    {
        std::string problem;
        log = make_stderr_logger(cfg.program, log_level_from(cfg.env, &problem));
        if (!problem.empty())
            log->warn("{}", problem);
    }
    if (auto t = env_timeout(cfg.env))
        cfg.executor.default_phase_timeout = *t;
    cfg.executor.logger = log;
    engine::failover_options fo;
    fo.time = time;
    fo.logger = log;
    limits = std::make_shared<engine::provider_limits>(time);
    fo.limits = limits;
    failover = std::make_unique<engine::failover_executor>(std::move(fo));
    if (auto otel = otel_config::from_environment(cfg.env, cfg.program))
        tracer = std::make_shared<otel_tracer>(ex, std::move(*otel), log);
}

runtime::runtime(asio::any_io_executor ex, runtime_config cfg)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(cfg)))
{
}

runtime::~runtime() = default;

const runtime_config& runtime::config() const noexcept { return impl_->cfg; }
const std::shared_ptr<spdlog::logger>& runtime::logger() const noexcept { return impl_->log; }
const std::shared_ptr<otel_tracer>& runtime::tracer() const noexcept { return impl_->tracer; }
std::string runtime::store_location() const { return impl_->store_location(); }

bool runtime::store_call_in_flight() const noexcept
{
    return impl_->store && impl_->store->calls_in_flight() > 0;
}

runtime_error unroutable_error(const engine::routing_explanation& routing)
{
    runtime_error e{runtime_errc::unroutable, {}, {}};
    for (const auto& p : routing.phases)
        if (!p.gate && p.command.empty() && !p.plan.ok())
            e.details.input_errors.push_back("phase '" + p.phase + "': " + p.plan.error_message);
    e.message = e.details.input_errors.empty() ? "a persona cannot be routed" : e.details.input_errors.front();
    return e;
}

asio::awaitable<result<engine::run_outcome>> runtime::impl::execute(const engine::policy& pol,
                                                                    engine::run_request req,
                                                                    engine::event_sink& sink,
                                                                    engine::run_control* control,
                                                                    const run_options& options)
{
    auto providers = build_providers(pol);
    if (!providers)
        co_return providers.error();
    for (const auto& [name, limit] : pol.limits)
        if (limit.any())
            limits->configure(name, limit);
    engine::executor_options eopts = cfg.executor;
    eopts.fail_fast = options.fail_fast;
    // Commands never see a key: refused in `env:`, redacted from their output.
    for (const auto& [name, prov] : pol.providers)
        if (!prov.api_key.empty())
            eopts.commands.secrets.push_back(prov.api_key);
    const engine::router routes = engine::router::from_environment(pol, cfg.env);
    const engine::provider_map& live = *providers;
    engine::workflow_executor exec(
        *store, pol,
        [&](const engine::phase_spec& ph, std::int64_t tokens) { return engine::build_candidates(ph, routes, live, tokens); },
        *failover, eopts);
    // With OpenTelemetry on, the run's events also become its spans (otel.hpp).
    std::unique_ptr<engine::event_sink> tracing = tracer ? tracer->run_sink() : nullptr;
    engine::multi_sink traced({&sink});
    if (tracing)
        traced.add(tracing.get());
    auto outcome = co_await exec.run(std::move(req), traced, control);
    if (!outcome)
        co_return from_store_error(outcome.error());
    co_return std::move(*outcome);
}

asio::awaitable<result<engine::run_outcome>> runtime::run(std::shared_ptr<const prepared_workflow> wf,
                                                          engine::event_sink& sink, engine::run_control* control,
                                                          run_options options)
{
    // Refuse a run that cannot finish before anything is stored: every persona must route now.
    const auto routing = explain(*wf);
    if (!routing.all_routable())
        co_return unroutable_error(routing);
    if (auto opened = impl_->ensure_store(store_access::write_create); !opened)
        co_return opened.error();
    engine::run_request req;
    req.spec = &wf->spec;
    req.graph = &wf->graph;
    req.definition = wf->definition;
    req.inputs = engine::input_texts(wf->inputs);
    req.mix = wf->routing.mix.name.empty() ? "A" : wf->routing.mix.name;
    req.max_cost_usd = options.max_cost_usd;
    req.workspace = options.workspace;
    co_return co_await impl_->execute(wf->routing, std::move(req), sink, control, options);
}

result<run_list> runtime::list(std::size_t limit)
{
    run_list out;
    if (auto opened = impl_->ensure_store(store_access::read_only); !opened)
    {
        if (opened.error().code != runtime_errc::unknown_run)
            return opened.error();
        out.store_missing = true;  // no store yet: no runs
        return out;
    }
    auto runs = impl_->store->sync().list_runs(limit + 1);  // one more tells whether older runs exist
    if (!runs)
        return from_store_error(runs.error());
    out.more = runs->size() > limit;
    if (out.more)
        runs->resize(limit);
    out.runs = std::move(*runs);
    return out;
}

result<run_details> runtime::show(const std::string& run_id)
{
    if (auto opened = impl_->ensure_store(store_access::read_only); !opened)
        return opened.error();
    auto& store = impl_->store->sync();
    auto run = store.get_run(run_id);
    if (!run)
    {
        auto e = from_store_error(run.error());
        if (e.code == runtime_errc::unknown_run)
            e.message = "unknown run id '" + run_id + "'";
        return e;
    }
    auto phases = store.get_phases(run_id);
    if (!phases)
        return from_store_error(phases.error());
    auto attempts = store.get_attempts(run_id);
    if (!attempts)
        return from_store_error(attempts.error());
    return run_details{std::move(*run), std::move(*phases), std::move(*attempts)};
}

}  // namespace ep::runtime
