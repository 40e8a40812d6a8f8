#pragma once
// What the runs API reads from a request, sans-I/O: the JSON bodies of POST /v1/runs and of
// resume, approve/reject and fork, the query of GET /v1/runs, and the Last-Event-ID of an
// event stream. Each reader returns the values or the message of the 400 that refuses them;
// the handlers (runs_api.cpp, events_api.cpp) and the request fuzzer
// (fuzz/fuzz_http_request.cpp) share them, so what is fuzzed is what is served.

#include "http/http_types.hpp"

#include <ep/engine/run/executor.hpp>
#include <ep/runtime/runtime.hpp>

#include <map>
#include <optional>
#include <string>

namespace ep::server {

/// A request's values, or the message of the 400 that refuses them (exactly one is set).
template <class T>
struct read_result
{
    std::optional<T> value;
    std::string error;
};

/// POST /v1/runs `{workflow | yaml, inputs?, config?, fail_fast?, max_cost_usd?}`.
struct run_submission
{
    std::optional<std::string> workflow;  // a name from the catalogue, or
    std::optional<std::string> yaml;      // the workflow's text (exactly one of the two)
    json inputs = json::object();         // name: string | number | boolean (checked when bound)
    runtime::run_options options;         // options.config: the requested mix, "" for the default
};
read_result<run_submission> read_run_submission(const json& body);

/// POST /v1/runs/{id}/resume `{config?, fail_fast?, max_cost_usd?}`.
read_result<runtime::run_options> read_resume(const json& body);

/// POST /v1/runs/{id}/approve|reject `{phase, comment?, config?, …}`; decision.by is left to
/// the caller (who asked).
struct gate_decision
{
    engine::approval_decision decision;
    runtime::run_options options;
};
read_result<gate_decision> read_gate_decision(const json& body, bool approved);

/// POST /v1/runs/{id}/fork `{from, inputs?, config?, …}`.
struct fork_request
{
    runtime::fork_options fork;
    runtime::run_options options;
};
read_result<fork_request> read_fork(const json& body);

/// The options a run takes when it starts or continues: config (a mix A–E), fail_fast and
/// max_cost_usd. The message of the 400, or nullopt when `body` held valid values.
std::optional<std::string> read_run_options(const json& body, runtime::run_options& options);

/// GET /v1/runs `?status=&workflow=&limit=&cursor=` (percent-decoded parameters).
read_result<runtime::run_query> read_run_list_query(const std::map<std::string, std::string>& query);

/// Where an event stream resumes: the Last-Event-ID header, else `?last_event_id=` (browsers'
/// EventSource cannot set headers on its first request); empty when neither is given.
std::string last_event_id(const request& req, const std::map<std::string, std::string>& query);

}  // namespace ep::server
