#pragma once
// The steps of one phase (phase_runner.cpp, phase_checkpoint.cpp): build the request without
// I/O, call it (with the one JSON repair), commit the checkpoint. Private to the executor.

#include <ep/engine/routing/failover.hpp>
#include <ep/engine/run/executor.hpp>
#include <ep/persistence/records.hpp>
#include <ep/providers/convert.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace ep::engine::detail {

struct run_state;

/// Why a phase did not complete: a class (workflow_errc, routing_errc, router_errc,
/// provider_errc, persistence) and our message for people.
struct phase_failure
{
    boost::system::error_code code;
    std::string message;
};

/// Events and attempts of one phase, collected for its checkpoint.
struct phase_log
{
    std::vector<persistence::event_record> events;
    void add(const run_event& ev);
};

enum class phase_end { completed, failed, cancelled };

/// What the call step produced.
struct phase_answer
{
    phase_end end = phase_end::failed;
    phase_failure failure;  // failed: why
    std::string output;
    std::optional<nlohmann::json> output_json;
    providers::conversation conversation;  // completed: system + messages + the answer
    std::string provider;
    std::string model;
    std::int64_t in_tokens = 0;
    std::int64_t out_tokens = 0;
    cost_total cost;  // of every call; a call to a model without a price is unknown
    std::vector<attempt_record> attempts;  // every attempt of the phase, numbered 1, 2, …
    persistence::timestamp started{};
};

/// A phase's request, its candidates and its call settings.
struct phase_call_plan
{
    providers::chat_request request;
    std::vector<candidate> candidates;
    failover_call_options options;
};

/// The phase's retry policy: `spec` (its `retry:`) over the failover's default `base`.
retry_policy phase_retry_policy(const retry_policy& base, const std::optional<retry_spec>& spec);

struct instance_ref;
struct run_services;

/// Renders the prompt/system templates of instance `ref` and assembles the request (no I/O).
/// Returns why it cannot be built (a template that cannot render, a missing conversation).
std::optional<phase_failure> build_phase_request(run_state& rs, const instance_ref& ref, const policy& pol,
                                                 providers::chat_request& req);

/// Calls the candidates (events go to the run's sink and `log`), and, for a JSON output that
/// does not validate, makes one repair call showing the model its error. Every call is checked
/// against the budgets first.
boost::asio::awaitable<phase_answer> call_phase(run_services& sv, run_state& rs, const instance_ref& ref,
                                                phase_call_plan plan, phase_log& log);

/// The failover callbacks of an instance: its events go to the run's sink and `log`.
failover_callbacks event_callbacks(run_state& rs, const instance_ref& ref, phase_log& log);

/// Folds one failover call into the answer (usage, cost, attempts; the failure when it has no
/// response); true when it produced a response.
bool take_call(phase_answer& answer, phase_call_result& r);

/// An LLM instance with `tools:`: offers the engine tools, executes the calls, feeds the results
/// back until the model answers without a tool call (at most max_tool_rounds rounds). Each round
/// is stored as it completes (a `tool_round` event), and a resume replays the stored rounds
/// instead of calling the tools again.
boost::asio::awaitable<phase_answer> call_with_tools(run_services& sv, run_state& rs, instance_ref ref,
                                                     phase_call_plan plan, phase_log& log);

/// The last step: the instance's checkpoint (result, attempts, events and conversation in one
/// transaction), then its summary and the result dependents read.
boost::asio::awaitable<void> checkpoint_instance(run_services& sv, run_state& rs, const instance_ref& ref,
                                                 phase_answer& answer, phase_log& log);

/// The engine's attempt records as the store keeps them.
std::vector<persistence::attempt_record> to_store_attempts(const run_state& rs, const instance_ref& ref,
                                                           const std::vector<attempt_record>& attempts);

/// "30s" or "1500ms".
std::string duration_text(std::chrono::milliseconds d);

}  // namespace ep::engine::detail
