#include "api/api_common.hpp"

#include <ep/engine/run/events.hpp>

namespace ep::server {

asio::awaitable<void> reply(request_context& ctx, response res) { co_await ctx.out.send(std::move(res)); }

body_result parse_json_object(const request& req, bool empty_is_object)
{
    body_result out;
    const auto& body = req.body();
    if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    {
        if (empty_is_object)
            out.value = json::object();
        else
            out.error = "the request body must be a JSON object";
        return out;
    }
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded())
        out.error = "the request body is not valid JSON";
    else if (!parsed.is_object())
        out.error = "the request body must be a JSON object";
    else
        out.value = std::move(parsed);
    return out;
}

std::optional<std::string> unknown_key(const json& body, std::initializer_list<std::string_view> allowed)
{
    for (auto it = body.begin(); it != body.end(); ++it)
    {
        bool known = false;
        for (auto a : allowed)
            known = known || it.key() == a;
        if (!known)
            return it.key();
    }
    return std::nullopt;
}

http::status status_for(const runtime::runtime_error& e)
{
    using runtime::runtime_errc;
    if (e.code == runtime_errc::invalid_workflow || e.code == runtime_errc::invalid_input ||
        e.code == runtime_errc::unroutable || e.code == runtime_errc::invalid_provider)
        return http::status::unprocessable_entity;
    if (e.code == runtime_errc::unknown_run || e.code == runtime_errc::unknown_model)
        return http::status::not_found;
    if (e.code == runtime_errc::unknown_phase)
        return http::status::unprocessable_entity;
    if (e.code == runtime_errc::lease_held || e.code == runtime_errc::already_completed ||
        e.code == runtime_errc::not_waiting)
        return http::status::conflict;
    return http::status::service_unavailable;  // the store: unusable or failing
}

response runtime_error_response(const request& req, const runtime::runtime_error& e)
{
    const auto status = status_for(e);
    // Store failures carry the store's own diagnostics (paths, SQLite messages): logged by the
    // caller, replaced by a plain sentence here.
    const bool internal = status == http::status::service_unavailable;
    json body = error_body(error_type_for(status), internal ? "the run store is unavailable" : e.message);
    if (!e.details.empty())
    {
        json problems = json::array();
        for (const auto& d : e.details.diag.items())
        {
            json p = {{"message", d.message}};
            if (!d.where.file.empty())
                p["file"] = d.where.file;
            if (d.where.known())
            {
                p["line"] = d.where.line;
                p["column"] = d.where.column;
            }
            problems.push_back(std::move(p));
        }
        for (const auto& m : e.details.input_errors)
            problems.push_back({{"message", m}});
        body["error"]["problems"] = std::move(problems);
    }
    return json_response(req, status, body);
}

std::string iso_time(persistence::timestamp t) { return engine::format_rfc3339(t); }

std::optional<std::string> iso_time(const std::optional<persistence::timestamp>& t)
{
    if (!t)
        return std::nullopt;
    return iso_time(*t);
}

namespace {
json nullable(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
}  // namespace

json run_summary_json(const persistence::run_record& r, bool live_here)
{
    return {{"run_id", r.id},
            {"workflow", r.workflow},
            {"status", std::string(persistence::to_string(r.status))},
            {"mix", r.mix},
            {"error", r.error.empty() ? json(nullptr) : json(r.error)},
            {"created", iso_time(r.created)},
            {"updated", iso_time(r.updated)},
            {"finished", nullable(iso_time(r.finished))},
            {"duration_ms", r.totals.duration.count()},
            {"usage", {{"input_tokens", r.totals.input_tokens}, {"output_tokens", r.totals.output_tokens}}},
            // null when a phase's cost is unknown; cost_usd_known is then a lower bound.
            {"cost_usd", r.totals.unpriced_phases == 0 ? json(r.totals.cost_usd) : json(nullptr)},
            {"cost_usd_known", r.totals.cost_usd},
            {"unpriced_phases", r.totals.unpriced_phases},
            {"phases_completed", r.totals.phases_completed},
            {"phases_failed", r.totals.phases_failed},
            {"owner", r.owner.empty() ? json(nullptr) : json(r.owner)},
            {"parent_run_id", r.parent_run_id.empty() ? json(nullptr) : json(r.parent_run_id)},
            {"parent_phase", r.parent_phase.empty() ? json(nullptr) : json(r.parent_phase)},
            {"live", live_here}};
}

json phase_json(const persistence::phase_record& p)
{
    // iteration (1-based; 1 outside loops) and item (a fan-out item's 0-based index, else null)
    // name the instance, as the phase events do.
    json j = {{"phase", p.phase_id},
              {"iteration", p.iteration},
              {"item", p.item ? json(*p.item) : json(nullptr)},
              {"status", std::string(persistence::to_string(p.status))},
              {"provider", p.provider},
              {"model", p.model},
              {"usage", {{"input_tokens", p.input_tokens}, {"output_tokens", p.output_tokens}}},
              {"cost_usd", p.cost_usd ? json(*p.cost_usd) : json(nullptr)},  // null: unknown
              {"attempts", p.attempts},
              {"started", nullable(iso_time(p.started))},
              {"finished", nullable(iso_time(p.finished))},
              {"error", p.error.empty() ? json(nullptr) : json(p.error)},
              {"output_format", p.output_json ? "json" : "text"},
              {"output_bytes", p.output_text.size()}};
    if (p.started && p.finished)
        j["duration_ms"] = (*p.finished - *p.started).count();
    return j;
}

json attempt_json(const persistence::attempt_record& a)
{
    return {{"phase", a.phase_id},
            {"attempt", a.attempt},
            {"provider", a.provider},
            {"model", a.model},
            {"outcome", std::string(persistence::to_string(a.outcome))},
            {"error", a.error.empty() ? json(nullptr) : json(a.error)},
            {"http_status", a.http_status ? json(*a.http_status) : json(nullptr)},
            {"latency_ms", a.latency.count()},
            {"started", iso_time(a.started)}};
}

bool is_allowed_mix(std::string_view mix)
{
    return mix.size() == 1 && ((mix[0] >= 'A' && mix[0] <= 'E') || (mix[0] >= 'a' && mix[0] <= 'e'));
}

}  // namespace ep::server
