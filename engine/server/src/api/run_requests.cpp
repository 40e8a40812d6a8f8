#include "api/run_requests.hpp"

#include "api/api_common.hpp"

namespace ep::server {

namespace {

template <class T>
read_result<T> refuse(std::string message)
{
    return {std::nullopt, std::move(message)};
}

// Whether `body[name]` is present and a non-empty string (the required ids: phase, from).
bool is_nonempty_string(const json& body, const char* name)
{
    return body.contains(name) && body[name].is_string() && !body[name].get_ref<const std::string&>().empty();
}

// Inputs travel to the binder as NAME=VALUE: a name holding '=' would bind another input
// ({"a=b": "c"} as a = "b=c"). Input names are identifiers, so such a name is refused.
std::optional<std::string> bad_input_name(const json& inputs)
{
    for (auto it = inputs.begin(); it != inputs.end(); ++it)
        if (it.key().empty() || it.key().find('=') != std::string::npos)
            return "'" + it.key() + "' is not an input name (letters, digits and _)";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> read_run_options(const json& body, runtime::run_options& options)
{
    if (body.contains("config"))
    {
        if (!body["config"].is_string() || !is_allowed_mix(body["config"].get<std::string>()))
            return "'config' must be one of the mixes A, B, C, D, E";
        options.config = body["config"].get<std::string>();
    }
    if (body.contains("fail_fast"))
    {
        if (!body["fail_fast"].is_boolean())
            return "'fail_fast' must be a boolean";
        options.fail_fast = body["fail_fast"].get<bool>();
    }
    if (body.contains("max_cost_usd"))
    {
        if (!body["max_cost_usd"].is_number() || body["max_cost_usd"].get<double>() < 0)
            return "'max_cost_usd' must be a number of dollars, 0 or more";
        options.max_cost_usd = body["max_cost_usd"].get<double>();
    }
    return std::nullopt;
}

read_result<run_submission> read_run_submission(const json& body)
{
    if (auto k = unknown_key(body, {"workflow", "yaml", "inputs", "config", "fail_fast", "max_cost_usd"}))
        return refuse<run_submission>("unknown field '" + *k +
                                      "' (fields: workflow | yaml, inputs, config, fail_fast, max_cost_usd)");
    const bool by_name = body.contains("workflow"), by_text = body.contains("yaml");
    if (by_name == by_text)
        return refuse<run_submission>(
            "give exactly one of 'workflow' (a name from GET /v1/workflows) or 'yaml' (the text)");
    const char* source = by_name ? "workflow" : "yaml";
    if (!body[source].is_string())
        return refuse<run_submission>("'" + std::string(source) + "' must be a string");
    if (body.contains("inputs") && !body["inputs"].is_object())
        return refuse<run_submission>("'inputs' must be an object of name: value");
    if (auto bad = body.contains("inputs") ? bad_input_name(body["inputs"]) : std::nullopt)
        return refuse<run_submission>(std::move(*bad));
    run_submission out;
    if (auto bad = read_run_options(body, out.options))
        return refuse<run_submission>(std::move(*bad));
    (by_name ? out.workflow : out.yaml) = body[source].get<std::string>();
    if (body.contains("inputs"))
        out.inputs = body["inputs"];
    return {std::move(out), {}};
}

read_result<runtime::run_options> read_resume(const json& body)
{
    if (auto k = unknown_key(body, {"config", "fail_fast", "max_cost_usd"}))
        return refuse<runtime::run_options>("unknown field '" + *k + "' (fields: config, fail_fast, max_cost_usd)");
    runtime::run_options options;
    if (auto bad = read_run_options(body, options))
        return refuse<runtime::run_options>(std::move(*bad));
    return {std::move(options), {}};
}

read_result<gate_decision> read_gate_decision(const json& body, bool approved)
{
    if (auto k = unknown_key(body, {"phase", "comment", "config", "fail_fast", "max_cost_usd"}))
        return refuse<gate_decision>("unknown field '" + *k +
                                     "' (fields: phase, comment, config, fail_fast, max_cost_usd)");
    if (!is_nonempty_string(body, "phase"))
        return refuse<gate_decision>("'phase' (the approval gate's id) is required and must be a string");
    if (body.contains("comment") && !body["comment"].is_string())
        return refuse<gate_decision>("'comment' must be a string");
    gate_decision out;
    if (auto bad = read_run_options(body, out.options))
        return refuse<gate_decision>(std::move(*bad));
    out.decision.phase = body["phase"].get<std::string>();
    out.decision.approved = approved;
    out.decision.comment = body.value("comment", std::string());
    return {std::move(out), {}};
}

read_result<fork_request> read_fork(const json& body)
{
    if (auto k = unknown_key(body, {"from", "inputs", "config", "fail_fast", "max_cost_usd"}))
        return refuse<fork_request>("unknown field '" + *k + "' (fields: from, inputs, config, fail_fast, max_cost_usd)");
    if (!is_nonempty_string(body, "from"))
        return refuse<fork_request>("'from' (the phase to run again) is required and must be a string");
    fork_request out;
    out.fork.from_phase = body["from"].get<std::string>();
    if (body.contains("inputs"))
    {
        if (!body["inputs"].is_object())
            return refuse<fork_request>("'inputs' must be an object of name: value");
        if (auto bad = bad_input_name(body["inputs"]))
            return refuse<fork_request>(std::move(*bad));
        for (auto it = body["inputs"].begin(); it != body["inputs"].end(); ++it)
        {
            if (it.value().is_string())
                out.fork.inputs.push_back(it.key() + "=" + it.value().get<std::string>());
            else if (it.value().is_number() || it.value().is_boolean())
                out.fork.inputs.push_back(it.key() + "=" + it.value().dump());
            else
                return refuse<fork_request>("input '" + it.key() + "' must be a string, a number or a boolean");
        }
    }
    if (auto bad = read_run_options(body, out.options))
        return refuse<fork_request>(std::move(*bad));
    return {std::move(out), {}};
}

read_result<runtime::run_query> read_run_list_query(const std::map<std::string, std::string>& query)
{
    runtime::run_query q;
    if (auto it = query.find("status"); it != query.end())
    {
        auto st = persistence::parse_run_status(it->second);
        if (!st)
            return refuse<runtime::run_query>(
                "status must be one of pending, running, waiting, completed, failed, interrupted");
        q.status = st;
    }
    if (auto it = query.find("workflow"); it != query.end())
        q.workflow = it->second;
    if (auto it = query.find("cursor"); it != query.end())
        q.before_id = it->second;
    if (auto it = query.find("limit"); it != query.end())
    {
        // At most 4 digits ("0050" is 50), so the number is read without overflow; then 1 to 200.
        const auto& v = it->second;
        const bool digits = !v.empty() && v.size() <= 4 && v.find_first_not_of("0123456789") == std::string::npos;
        const int limit = digits ? std::stoi(v) : 0;
        if (limit < 1 || limit > 200)
            return refuse<runtime::run_query>("limit must be an integer from 1 to 200");
        q.limit = static_cast<std::size_t>(limit);
    }
    return {std::move(q), {}};
}

std::string last_event_id(const request& req, const std::map<std::string, std::string>& query)
{
    if (auto h = req.find("Last-Event-ID"); h != req.end())
        return std::string(h->value());
    if (auto q = query.find("last_event_id"); q != query.end())
        return q->second;
    return {};
}

}  // namespace ep::server
