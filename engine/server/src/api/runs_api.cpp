// /v1/runs: submit (validated like `ep-run --validate`), list with filters and pages, one run
// with its phases and attempts, a phase's output, cancel and resume — the CLI's semantics.
#include "api/api_common.hpp"
#include "api/run_requests.hpp"
#include "server_impl.hpp"

#include <ep/engine/inputs.hpp>
#include <ep/engine/loader.hpp>

#include <spdlog/logger.h>

#include <algorithm>
#include <fstream>
#include <random>

namespace ep::server {

namespace fs = std::filesystem;

namespace {

asio::awaitable<void> bad_request(request_context& ctx, const std::string& message)
{
    co_await ctx.out.send(error_response(ctx.req, http::status::bad_request, "invalid_request_error", message));
}

runtime::runtime_error validation_error(std::string message)
{
    runtime::runtime_error e{runtime::runtime_errc::invalid_input, message, {}};
    e.details.input_errors.push_back(std::move(message));
    return e;
}

// A file input's content arrives in the request; bind_inputs reads files, so it goes through
// a private temporary file (never a path the client chose).
class temp_input_files
{
public:
    ~temp_input_files()
    {
        std::error_code ec;
        for (const auto& f : files_)
            fs::remove(f, ec);
    }
    std::optional<std::string> add(const std::string& name, const std::string& content)
    {
        std::random_device rd;
        auto path = fs::temp_directory_path() / ("ep-serve-input-" + std::to_string(rd()) + std::to_string(rd()));
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (!f)
            return std::nullopt;
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
        f << content;
        files_.push_back(path);
        return name + "=" + path.string();
    }

private:
    std::vector<fs::path> files_;
};

// Binds the request's inputs ({name: string|number|boolean}) to the prepared workflow.
std::optional<runtime::runtime_error> bind_request_inputs(runtime::prepared_workflow& wf, const json& inputs)
{
    std::vector<std::string> values, files;
    temp_input_files temps;
    std::vector<std::string> errors;
    for (auto it = inputs.begin(); it != inputs.end(); ++it)
    {
        const auto& v = it.value();
        std::string text;
        if (v.is_string())
            text = v.get<std::string>();
        else if (v.is_number() || v.is_boolean())
            text = v.dump();
        else
        {
            errors.push_back("input '" + it.key() + "' must be a string, a number or a boolean");
            continue;
        }
        const auto* spec = wf.spec.find_input(it.key());
        if (spec && spec->type == engine::input_type::file)
        {
            if (auto arg = temps.add(it.key(), text))
                files.push_back(*arg);
            else
                errors.push_back("input '" + it.key() + "': cannot store its content");
        }
        else
            values.push_back(it.key() + "=" + text);
    }
    auto bound = engine::bind_inputs(wf.spec, values, files, errors);
    if (!errors.empty() || !bound)
    {
        runtime::runtime_error e{runtime::runtime_errc::invalid_input, "invalid inputs", {}};
        e.details.input_errors = std::move(errors);
        if (e.details.input_errors.empty())
            e.details.input_errors.push_back("the inputs do not bind");
        return e;
    }
    for (auto& [name, value] : *bound)
        value.path.clear();  // a temporary file's path means nothing to anyone
    wf.inputs = std::move(*bound);
    return std::nullopt;
}

asio::awaitable<void> submit_run(server::impl& s, request_context& ctx)
{
    auto body = parse_json_object(ctx.req, false);
    if (!body.value)
        co_return co_await bad_request(ctx, body.error);
    auto submission = read_run_submission(*body.value);
    if (!submission.value)
        co_return co_await bad_request(ctx, submission.error);
    const run_submission& sub = *submission.value;
    const bool by_name = sub.workflow.has_value(), by_text = sub.yaml.has_value();
    runtime::run_options ropts = sub.options;
    const std::string mix = ropts.config.empty() ? s.cfg.default_mix : ropts.config;
    ropts.config.clear();  // a new run takes its mix from the prepared workflow

    runtime::workflow_source source;
    if (by_name)
    {
        const std::string& name = *sub.workflow;
        auto found = s.catalog.find(name);
        if (!found)
        {
            co_await ctx.out.send(error_response(ctx.req, http::status::not_found, "not_found_error",
                                                 "unknown workflow '" + name + "' (GET /v1/workflows lists them)"));
            co_return;
        }
        source.file = found->file;
    }
    else
    {
        source.text = *sub.yaml;
        source.display_name = "workflow.yaml";
    }
    runtime::prepare_options popts;
    popts.config = mix;
    popts.bind_inputs = false;
    auto prepared = s.rt.prepare(source, popts);
    if (!prepared)
    {
        auto e = prepared.error();
        if (by_name)  // name the workflow's file, not the server's path to it
        {
            engine::diagnostics renamed;
            for (auto d : e.details.diag.items())
            {
                d.where.file = fs::path(d.where.file).filename().string();
                renamed.add(d.where, d.message);
            }
            e.details.diag = std::move(renamed);
        }
        co_return co_await reply(ctx, runtime_error_response(ctx.req, e));
    }
    if (by_text && prepared->spec.has_inline_providers && !s.cfg.allow_inline_providers)
        co_return co_await reply(ctx, runtime_error_response(
            ctx.req, validation_error("a 'providers:' section is not accepted in a submitted workflow: it could send "
                                      "the server's keys to another host (start ep-serve with --allow-inline-providers)")));
    if (auto problem = bind_request_inputs(*prepared, sub.inputs))
        co_return co_await reply(ctx, runtime_error_response(ctx.req, *problem));

    auto started = co_await s.registry.start(std::make_shared<const runtime::prepared_workflow>(std::move(*prepared)), ropts);
    if (!started)
    {
        if (status_for(started.error()) == http::status::service_unavailable)
            s.log->error("POST /v1/runs: {}", started.error().message);
        co_return co_await reply(ctx, runtime_error_response(ctx.req, started.error()));
    }
    auto res = json_response(ctx.req, http::status::created,
                             {{"run_id", *started},
                              {"status", "running"},
                              {"links", {{"run", "/v1/runs/" + *started}, {"events", "/v1/runs/" + *started + "/events"}}}});
    res.set(http::field::location, "/v1/runs/" + *started);
    co_await ctx.out.send(std::move(res));
}

asio::awaitable<void> list_runs(server::impl& s, request_context& ctx)
{
    auto q = read_run_list_query(ctx.query);
    if (!q.value)
        co_return co_await bad_request(ctx, q.error);
    auto found = co_await s.rt.find_runs(*q.value);
    if (!found)
    {
        s.log->error("GET /v1/runs: {}", found.error().message);
        co_return co_await reply(ctx, runtime_error_response(ctx.req, found.error()));
    }
    json runs = json::array();
    for (const auto& r : found->runs)
        runs.push_back(run_summary_json(r, s.registry.in_flight(r.id)));
    json next = found->more && !found->runs.empty() ? json(found->runs.back().id) : json(nullptr);
    const json page = {{"runs", std::move(runs)}, {"next_cursor", next}};
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, page));
}

asio::awaitable<std::optional<runtime::run_details>> load_run(server::impl& s, request_context& ctx)
{
    auto run = co_await s.rt.fetch_run(ctx.params["id"]);
    if (!run)
    {
        if (status_for(run.error()) == http::status::service_unavailable)
            s.log->error("{}: {}", ctx.path, run.error().message);
        co_await ctx.out.send(runtime_error_response(ctx.req, run.error()));
        co_return std::nullopt;
    }
    co_return std::move(*run);
}

asio::awaitable<void> get_run(server::impl& s, request_context& ctx)
{
    auto run = co_await load_run(s, ctx);
    if (!run)
        co_return;
    json j = run_summary_json(run->run, s.registry.in_flight(run->run.id));
    j["inputs"] = run->run.inputs;
    j["definition"] = run->run.definition;
    json phases = json::array();
    for (const auto& p : run->phases)
        phases.push_back(phase_json(p));
    j["phases"] = std::move(phases);
    json attempts = json::array();
    for (const auto& a : run->attempts)
        attempts.push_back(attempt_json(a));
    j["attempts"] = std::move(attempts);
    // The DAG from the stored definition, for drawing (phases not run yet have no row above).
    engine::diagnostics diag;
    if (auto spec = engine::load_workflow_string_partial(run->run.definition, run->run.workflow + ".yaml", diag))
        j["graph"] = graph_json(*spec);
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, j));
}

asio::awaitable<void> get_output(server::impl& s, request_context& ctx)
{
    auto run = co_await load_run(s, ctx);
    if (!run)
        co_return;
    const auto& id = ctx.params["phase"];
    // The phase's latest pass (a loop stores one row per iteration); its row, not a fan-out item's.
    auto it = run->phases.end();
    for (auto p = run->phases.begin(); p != run->phases.end(); ++p)
        if (p->phase_id == id && !p->item && (it == run->phases.end() || p->iteration > it->iteration))
            it = p;
    if (it == run->phases.end())
        co_return co_await reply(ctx, error_response(ctx.req, http::status::not_found, "not_found_error",
                                                       "run " + run->run.id + " has no result for phase '" + id + "'"));
    if (it->status != persistence::phase_status::completed)
        co_return co_await reply(ctx, error_response(
            ctx.req, http::status::conflict, "conflict_error",
            "phase '" + id + "' has no output: it is " + std::string(persistence::to_string(it->status))));
    response res{http::status::ok, ctx.req.version()};
    res.keep_alive(ctx.req.keep_alive());
    if (it->output_json)
    {
        res.set(http::field::content_type, "application/json");
        res.body() = dump_json(*it->output_json);
    }
    else
    {
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = it->output_text;
    }
    res.prepare_payload();
    co_await ctx.out.send(std::move(res));
}

asio::awaitable<void> cancel_run(server::impl& s, request_context& ctx)
{
    const auto& id = ctx.params["id"];
    if (s.registry.request_stop(id))
    {
        const json stopping = {{"run_id", id}, {"status", "stopping"}};
        co_return co_await reply(ctx, json_response(ctx.req, http::status::accepted, stopping));
    }
    auto run = co_await load_run(s, ctx);
    if (!run)
        co_return;
    const auto status = run->run.status;
    std::string why = status == persistence::run_status::waiting
                          ? "run " + id + " is waiting at an approval gate (nothing runs); reject the gate to end it"
                      : persistence::is_finished(status)
                          ? "run " + id + " is not running (it is " + std::string(persistence::to_string(status)) + ")"
                          : "run " + id + " is executed by another process (" + run->run.owner + "); stop it there";
    co_await ctx.out.send(error_response(ctx.req, http::status::conflict, "conflict_error", why));
}

// The reply of an operation that continues a run (or starts a fork) in the background: 202
// with the run to follow, or the runtime's error.
asio::awaitable<void> reply_continued(server::impl& s, request_context& ctx,
                                      const runtime::result<std::string>& continued)
{
    if (!continued)
    {
        if (status_for(continued.error()) == http::status::service_unavailable)
            s.log->error("{}: {}", ctx.path, continued.error().message);
        co_return co_await reply(ctx, runtime_error_response(ctx.req, continued.error()));
    }
    const json running = {{"run_id", *continued},
                          {"status", "running"},
                          {"links", {{"run", "/v1/runs/" + *continued}, {"events", "/v1/runs/" + *continued + "/events"}}}};
    co_await ctx.out.send(json_response(ctx.req, http::status::accepted, running));
}

asio::awaitable<void> resume_run(server::impl& s, request_context& ctx)
{
    auto body = parse_json_object(ctx.req, true);
    if (!body.value)
        co_return co_await bad_request(ctx, body.error);
    auto options = read_resume(*body.value);
    if (!options.value)
        co_return co_await bad_request(ctx, options.error);
    auto resumed = co_await s.registry.resume(ctx.params["id"], *options.value);
    co_await reply_continued(s, ctx, resumed);
}

// approve and reject: `ep-run --approve|--reject RUN_ID PHASE [--comment TEXT]`; the decision
// is recorded as made by the caller (its token's name, or "anonymous").
asio::awaitable<void> decide_gate(server::impl& s, request_context& ctx, bool approved)
{
    auto body = parse_json_object(ctx.req, false);
    if (!body.value)
        co_return co_await bad_request(ctx, body.error);
    auto gate = read_gate_decision(*body.value, approved);
    if (!gate.value)
        co_return co_await bad_request(ctx, gate.error);
    gate.value->decision.by = ctx.principal;
    auto continued = co_await s.registry.approve(ctx.params["id"], gate.value->decision, gate.value->options);
    co_await reply_continued(s, ctx, continued);
}

asio::awaitable<void> approve_run(server::impl& s, request_context& ctx) { co_await decide_gate(s, ctx, true); }
asio::awaitable<void> reject_run(server::impl& s, request_context& ctx) { co_await decide_gate(s, ctx, false); }

// `ep-run --fork RUN_ID --from PHASE [--input KEY=VALUE]... [--config MIX]`: a new run.
asio::awaitable<void> fork_run(server::impl& s, request_context& ctx)
{
    auto body = parse_json_object(ctx.req, false);
    if (!body.value)
        co_return co_await bad_request(ctx, body.error);
    auto fork = read_fork(*body.value);
    if (!fork.value)
        co_return co_await bad_request(ctx, fork.error);
    auto forked = co_await s.registry.fork(ctx.params["id"], fork.value->fork, fork.value->options);
    if (forked)
    {
        auto res = json_response(ctx.req, http::status::created,
                                 {{"run_id", *forked},
                                  {"parent_run_id", ctx.params["id"]},
                                  {"status", "running"},
                                  {"links", {{"run", "/v1/runs/" + *forked}, {"events", "/v1/runs/" + *forked + "/events"}}}});
        res.set(http::field::location, "/v1/runs/" + *forked);
        co_await ctx.out.send(std::move(res));
        co_return;
    }
    co_await reply_continued(s, ctx, forked);
}

asio::awaitable<void> list_workflows(server::impl& s, request_context& ctx)
{
    json list = json::array();
    for (const auto& e : s.catalog.list())
        list.push_back(s.catalog.describe(s.rt, e));
    const json all = {{"workflows", std::move(list)}};
    co_await ctx.out.send(json_response(ctx.req, http::status::ok, all));
}

}  // namespace

void add_run_routes(server::impl& s)
{
    auto bind = [&s](asio::awaitable<void> (*fn)(server::impl&, request_context&)) {
        return [&s, fn](request_context& ctx) { return fn(s, ctx); };
    };
    s.routes.add(http::verb::post, "/v1/runs", bind(submit_run));
    s.routes.add(http::verb::get, "/v1/runs", bind(list_runs));
    s.routes.add(http::verb::get, "/v1/runs/{id}", bind(get_run));
    s.routes.add(http::verb::get, "/v1/runs/{id}/outputs/{phase}", bind(get_output));
    s.routes.add(http::verb::post, "/v1/runs/{id}/cancel", bind(cancel_run));
    s.routes.add(http::verb::post, "/v1/runs/{id}/resume", bind(resume_run));
    s.routes.add(http::verb::post, "/v1/runs/{id}/approve", bind(approve_run));
    s.routes.add(http::verb::post, "/v1/runs/{id}/reject", bind(reject_run));
    s.routes.add(http::verb::post, "/v1/runs/{id}/fork", bind(fork_run));
    s.routes.add(http::verb::get, "/v1/workflows", bind(list_workflows));
}

}  // namespace ep::server
