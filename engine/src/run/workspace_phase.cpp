// A phase instance acting on the workspace: command phases, `files: true`, the git commit after
// the instance, and `gate:`.
#include "run/workspace_steps.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/workspace/fenced_files.hpp>
#include <ep/engine/workspace/gate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;

namespace {

run_event make_event(const run_state& rs, const char* type, nlohmann::json fields)
{
    return run_event{type, rs.run_id, ps::now_ms(), std::move(fields)};
}

// `run:` rendered for this instance: each argv element on its own (a value stays one argument,
// whatever it contains), a script with each value quoted as one shell word.
std::optional<phase_failure> render_command(run_state& rs, const instance_ref& ref, command_spec& spec)
{
    const auto& cmd = *rs.phase(ref.phase).command;
    const auto& ctx = instance_context(rs, ref.phase, ref.item);
    std::string why;
    for (std::size_t i = 0; i < cmd.argv_templates.size() && i < spec.argv.size(); ++i)
    {
        auto arg = render_template(cmd.argv_templates[i].tpl, ctx, &why);
        if (!arg)
            return phase_failure{workflow_errc::render_failed,
                                 "cannot render `run:` argument " + std::to_string(i + 1) + ": " + why};
        spec.argv[i] = std::move(*arg);
    }
    if (cmd.script_template)
    {
        auto script = render_template(cmd.script_template->tpl, ctx, &shell_quote, &why);
        if (!script)
            return phase_failure{workflow_errc::render_failed, "cannot render the `run:` script: " + why};
        spec.script = std::move(*script);
    }
    return std::nullopt;
}

}  // namespace

void emit(run_state& rs, const instance_ref& ref, phase_log& log, run_event ev)
{
    tag(rs, ev, ref.phase, ref.item);
    log.add(ev);
    rs.sink.on_event(ev);
}

command_spec to_command_spec(const command_decl& decl, std::chrono::milliseconds fallback)
{
    command_spec spec;
    spec.argv = decl.argv;
    spec.script = decl.script;
    spec.shell = decl.shell;
    spec.cwd = decl.cwd;
    spec.env = decl.env;
    spec.timeout = decl.timeout.value_or(fallback);
    spec.network = decl.network;
    return spec;
}

asio::awaitable<void> run_command_phase(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                        phase_answer& answer)
{
    const auto& ph = rs.phase(ref.phase);
    // A command's own default is 10 minutes, whatever EP_TIMEOUT says for model calls.
    auto spec = to_command_spec(*ph.command, ph.timeout.value_or(std::chrono::minutes(10)));
    // The same lifecycle as an LLM phase (phase_started … phase_completed|phase_failed); no
    // provider or model: consumers count model calls only for a non-empty provider.
    emit(rs, ref, log, events::phase_started(rs.run_id, ph.id, 1, "", ""));
    if (auto failed = render_command(rs, ref, spec))
    {
        answer.end = phase_end::failed;
        answer.failure = std::move(*failed);
        co_return;
    }
    std::vector<std::string> shown = spec.shell ? std::vector<std::string>{"/bin/sh", "-c", spec.script} : spec.argv;
    emit(rs, ref, log, make_event(rs, "command_started", {{"phase", ph.id}, {"argv", shown}}));
    output_callback on_output = [&rs, &log, ref, id = ph.id](output_stream stream, std::string_view text) {
        emit(rs, ref, log,
             make_event(rs, "command_output", {{"phase", id}, {"stream", to_string(stream)}, {"text", std::string(text)}}));
    };
    auto ran = co_await rs.work.runner->run(std::move(spec), *rs.work.ws, std::move(on_output));
    if (!ran)
    {
        answer.end = phase_end::failed;
        answer.failure = {ran.error().code, "the command could not start: " + ran.error().str()};
        co_return;
    }
    const auto& result = *ran;
    nlohmann::json done = {{"phase", ph.id}, {"exit_code", result.status_code()}, {"duration_ms", result.duration_ms}};
    emit(rs, ref, log, make_event(rs, "command_completed", std::move(done)));
    answer.output = result.output;
    answer.output_json = result.to_json();
    rs.instance(ref).summary.exit_code = result.status_code();
    if (result.cancelled)
        answer.end = phase_end::cancelled;
    else if (result.succeeded() || (ph.allow_failure && !result.timed_out))
        answer.end = phase_end::completed;
    else
    {
        answer.end = phase_end::failed;
        answer.failure = {workflow_errc::command_failed, "the command failed: " + result.describe()};
        sv.log.info("run {} phase {}: {}", rs.run_id, ph.id, answer.failure.message);
    }
}

void write_answer_files(run_state& rs, const instance_ref& ref, phase_log& log, phase_answer& answer)
{
    const auto& ph = rs.phase(ref.phase);
    write_quota quota(rs.work.ws->limits());
    auto files = extract_fenced_files(answer.output);
    ws_result<nlohmann::json> written = files ? write_fenced_files(*rs.work.ws, *files, &quota)
                                              : ws_result<nlohmann::json>(files.error());
    if (!written)
    {
        answer.end = phase_end::failed;
        answer.failure = {written.error().code, "files: " + written.error().str()};
        return;
    }
    emit(rs, ref, log, make_event(rs, "files_written", {{"phase", ph.id}, {"files", (*written)["files"]}}));
    if (ph.output.format != output_format::json)
        answer.output_json = std::move(*written);  // {{ phases.ID.json.files }} lists them
}

asio::awaitable<void> commit_workspace(run_services& sv, run_state& rs, instance_ref ref, phase_log& log,
                                       phase_answer& answer)
{
    // Instances that finish together commit one after the other (git's index lock).
    asio::steady_timer wait(rs.done.get_executor());
    while (rs.work.git_busy)
    {
        wait.expires_after(std::chrono::milliseconds(20));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    rs.work.git_busy = true;
    phase_commit_info info;
    info.run_id = rs.run_id;
    info.phase = rs.phase(ref.phase).id;
    info.iteration = rs.tracks[ref.phase].iteration;
    if (ref.item)
        info.item = static_cast<int>(*ref.item);
    info.provider = answer.provider.empty() ? "command" : answer.provider;
    info.model = answer.model.empty() ? "-" : answer.model;
    auto committed = co_await rs.work.git->commit_phase(info);
    rs.work.git_busy = false;
    if (!committed)
    {
        answer.end = phase_end::failed;
        answer.failure = {committed.error().code, "git commit: " + committed.error().str()};
        sv.log.error("run {} phase {}: {}", rs.run_id, info.phase, answer.failure.message);
        co_return;
    }
    if (*committed)
        emit(rs, ref, log, make_event(rs, "workspace_committed", {{"phase", info.phase}, {"commit", **committed},
                                                                  {"branch", rs.work.branch}}));
}

namespace {

gate_spec to_gate_spec(const gate_decl& g)
{
    gate_spec spec;
    spec.min_pass_rate = g.min_pass_rate;
    spec.max_duration = g.max_duration;
    spec.max_cost_usd = g.max_cost_usd;
    return spec;
}

}  // namespace

void apply_gate(run_state& rs, const instance_ref& ref, phase_log& log, phase_answer& answer,
                std::chrono::milliseconds duration)
{
    const auto& ph = rs.phase(ref.phase);
    if (!ph.gate || answer.end != phase_end::completed)
        return;
    gate_input in;
    in.duration = duration;
    in.cost_usd = answer.cost.value();
    in.output = answer.output;
    auto result = evaluate_gate(to_gate_spec(*ph.gate), in);
    emit(rs, ref, log, make_event(rs, "gate_evaluated", {{"phase", ph.id}, {"gate", result.to_json()}}));
    if (ph.kind == phase_kind::command && answer.output_json && answer.output_json->is_object())
        (*answer.output_json)["gate"] = result.to_json();
    if (result.passed)
        return;
    if (rs.graph.innermost_loop(ref.phase))
    {
        rs.tracks[ref.phase].gate_failure = result.message();  // the loop goes round again
        return;
    }
    answer.end = phase_end::failed;
    answer.failure = {workflow_errc::gate_failed, result.message()};
}

void reapply_gate(run_state& rs, const instance_ref& ref, const ps::phase_record& stored)
{
    const auto& ph = rs.phase(ref.phase);
    if (!ph.gate || !rs.graph.innermost_loop(ref.phase))
        return;
    gate_input in;
    if (stored.started && stored.finished)
        in.duration = std::chrono::duration_cast<std::chrono::milliseconds>(*stored.finished - *stored.started);
    in.cost_usd = stored.cost_usd;
    in.output = stored.output_text;
    auto result = evaluate_gate(to_gate_spec(*ph.gate), in);
    if (!result.passed)
        rs.tracks[ref.phase].gate_failure = result.message();
}

}  // namespace ep::engine::detail
