// The engine tools of a phase (`tools:`) through the provider's native tool calling: offer the
// definitions, execute the calls in the workspace, send the results back, until the model
// answers without a tool call or max_tool_rounds is reached. Each round is stored when it ends,
// so a resume replays it instead of running its tools again.
#include "run/phase_steps.hpp"
#include "run/services.hpp"
#include "run/workspace_steps.hpp"

#include <ep/engine/error.hpp>
#include <ep/engine/run/json_output.hpp>
#include <ep/engine/workspace/tools.hpp>

namespace ep::engine::detail {

namespace ps = ep::persistence;
namespace pv = ep::providers;

namespace {

constexpr std::size_t event_text_cap = 4096;  // what a tool_result event shows of a result

std::string capped(const std::string& text)
{
    if (text.size() <= event_text_cap)
        return text;
    return text.substr(0, event_text_cap) + "[… " + std::to_string(text.size() - event_text_cap) + " more bytes]";
}

// The stored rounds of this instance, appended to the request's messages; how many there were.
int replay_rounds(run_state& rs, const instance_ref& ref, pv::chat_request& req)
{
    std::optional<int> item;
    if (ref.item)
        item = static_cast<int>(*ref.item);
    auto it = rs.tool_rounds.find(instance_key{rs.phase(ref.phase).id, rs.tracks[ref.phase].iteration, item});
    if (it == rs.tool_rounds.end())
        return 0;
    int rounds = 0;
    for (const auto& messages : it->second)
    {
        auto conv = pv::from_openai_messages(messages);
        if (!conv)
            continue;
        for (auto& m : conv->messages)
            req.messages.push_back(std::move(m));
        ++rounds;
    }
    return rounds;
}

asio::awaitable<void> store_round(run_services& sv, run_state& rs, const instance_ref& ref, int round,
                                  const pv::message& calls, const pv::message& results)
{
    pv::conversation conv;
    conv.messages = {calls, results};
    ps::event_record r;
    r.run_id = rs.run_id;
    r.ts = ps::now_ms();
    r.type = tool_round_event_type;
    r.payload = {{"phase", rs.phase(ref.phase).id},
                 {"iteration", rs.tracks[ref.phase].iteration},
                 {"round", round},
                 {"messages", pv::to_openai_messages(conv)}};
    if (ref.item)
        r.payload["item"] = *ref.item;
    std::vector<ps::event_record> batch;
    batch.push_back(std::move(r));
    if (auto stored = co_await sv.store.append_events(rs.run_id, std::move(batch)); !stored)
        sv.log.warn("run {} phase {}: cannot store tool round {}: {}", rs.run_id, rs.phase(ref.phase).id, round,
                    stored.error().to_string());
}

test_command_fn test_runner(run_state& rs, const instance_ref& ref, phase_log& log)
{
    if (!rs.spec.test_command)
        return {};
    return [&rs, &log, ref]() -> asio::awaitable<ws_result<command_result>> {
        auto spec = to_command_spec(*rs.spec.test_command, std::chrono::minutes(10));
        const std::string id = rs.phase(ref.phase).id;
        output_callback on_output = [&rs, &log, ref, id](output_stream stream, std::string_view text) {
            emit(rs, ref, log, run_event{"command_output", rs.run_id, ps::now_ms(),
                                         {{"phase", id}, {"stream", to_string(stream)}, {"text", std::string(text)}}});
        };
        co_return co_await rs.work.runner->run(std::move(spec), *rs.work.ws, std::move(on_output));
    };
}

// Executes one round's calls; the results message.
asio::awaitable<pv::message> execute_round(run_state& rs, const instance_ref& ref, phase_log& log,
                                           const std::vector<pv::tool_call>& calls, tool_context& ctx)
{
    const std::string& id = rs.phase(ref.phase).id;
    pv::message results{pv::role::tool, {}};
    for (const auto& call : calls)
    {
        emit(rs, ref, log, run_event{"tool_call", rs.run_id, ps::now_ms(),
                                     {{"phase", id}, {"id", call.id}, {"name", call.name}, {"arguments", call.arguments}}});
        pv::tool_call named = call;  // named: never a temporary into a coroutine (g++ 12)
        pv::tool_result result = co_await execute_tool(std::move(named), ctx);
        emit(rs, ref, log, run_event{"tool_result", rs.run_id, ps::now_ms(),
                                     {{"phase", id}, {"id", call.id}, {"name", call.name},
                                      {"is_error", result.is_error}, {"content", capped(result.content)}}});
        results.parts.push_back(std::move(result));
    }
    co_return results;
}

// What the rounds of one instance share: the failover callbacks, the budget reserved for the
// call in flight, the tools' context (its write quota) and the number of rounds so far.
struct tool_round_state
{
    failover_callbacks cbs;
    std::pair<double, std::int64_t> reserved{};
    tool_context tools;
    int rounds = 0;
};

// Model calls and their tool rounds until the model answers without a tool call: true with its
// text in answer.output (and the answer appended to the request), false when the phase ended
// (answer.end says how). `st.rounds` counts across calls: a repair shares max_tool_rounds.
asio::awaitable<bool> answer_after_tools(run_services& sv, run_state& rs, const instance_ref& ref,
                                         phase_call_plan& plan, phase_log& log, phase_answer& answer,
                                         tool_round_state& st)
{
    const auto& ph = rs.phase(ref.phase);
    for (;;)
    {
        plan.options.first_attempt_number = static_cast<int>(answer.attempts.size()) + 1;
        phase_call_result r = co_await sv.failover.call_with_failover(plan.candidates, plan.request, st.cbs, plan.options);
        release_budget(rs, st.reserved);
        if (!take_call(answer, r))
            co_return false;
        auto assistant = r.response.to_message();
        if (r.response.tool_calls.empty())
        {
            answer.output = std::move(r.response.text);
            plan.request.messages.push_back(std::move(assistant));
            co_return true;
        }
        if (st.rounds >= ph.max_tool_rounds)
        {
            answer.end = phase_end::failed;
            answer.failure = {workflow_errc::tool_rounds_exceeded,
                              "the model still called tools after max_tool_rounds (" +
                                  std::to_string(ph.max_tool_rounds) + ") rounds"};
            co_return false;
        }
        pv::message results = co_await execute_round(rs, ref, log, r.response.tool_calls, st.tools);
        ++st.rounds;
        co_await store_round(sv, rs, ref, st.rounds, assistant, results);
        plan.request.messages.push_back(std::move(assistant));
        plan.request.messages.push_back(std::move(results));
    }
}

}  // namespace

asio::awaitable<phase_answer> call_with_tools(run_services& sv, run_state& rs, instance_ref ref, phase_call_plan plan,
                                              phase_log& log)
{
    const auto& ph = rs.phase(ref.phase);
    phase_answer answer;
    if (auto specs = engine_tool_specs(ph.tools))
        plan.request.tools = std::move(*specs);
    write_quota quota(rs.work.ws->limits());
    tool_round_state st{event_callbacks(rs, ref, log), {}, tool_context(*rs.work.ws, &quota, test_runner(rs, ref, log)),
                        replay_rounds(rs, ref, plan.request)};
    st.cbs.before_call = [&](const candidate& c, const pv::chat_request& req) {
        release_budget(rs, st.reserved);
        return check_budget(rs, ph, answer.cost.known_usd, c, req, st.reserved);
    };
    if (!co_await answer_after_tools(sv, rs, ref, plan, log, answer, st))
        co_return answer;
    if (ph.output.format == output_format::json)
    {
        auto check = check_json_output(answer.output, ph.output.schema);
        if (!check.value)
        {
            // As a phase without tools: one repair, the validation error sent back (the tools
            // stay offered, so the model may look again before it answers).
            sv.log.info("run {} phase {}: JSON output rejected ({}); one repair attempt", rs.run_id, ph.id, check.error);
            plan.request.messages.push_back(pv::message::user_text(json_repair_prompt(check, ph.output.schema)));
            if (!co_await answer_after_tools(sv, rs, ref, plan, log, answer, st))
                co_return answer;
            check = check_json_output(answer.output, ph.output.schema);
        }
        if (!check.value)
        {
            answer.end = phase_end::failed;
            answer.failure = {workflow_errc::invalid_output,
                              "invalid JSON output after the tool rounds and one repair attempt: " + check.error};
            co_return answer;
        }
        answer.output = check.json_text;
        answer.output_json = std::move(check.value);
    }
    answer.end = phase_end::completed;
    answer.conversation.system = plan.request.system;
    answer.conversation.messages = std::move(plan.request.messages);
    co_return answer;
}

}  // namespace ep::engine::detail
