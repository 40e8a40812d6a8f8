// The JSON report, `--report` parsing and writing a report file atomically.
#include "workspace/report_common.hpp"
#include "workspace/utf8.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace ep::engine {
namespace {

using nlohmann::json;

json optional_time(const std::optional<persistence::timestamp>& t)
{
    return t ? json(detail::iso8601(*t)) : json(nullptr);
}

json attempt_json(const persistence::attempt_record& a)
{
    return {{"attempt", a.attempt},
            {"provider", a.provider},
            {"model", a.model},
            {"outcome", std::string(persistence::to_string(a.outcome))},
            {"error", detail::sanitize_utf8(a.error)},
            {"http_status", a.http_status ? json(*a.http_status) : json(nullptr)},
            {"latency_ms", a.latency.count()},
            {"started", detail::iso8601(a.started)}};
}

json phase_json(const report_input& in, const persistence::phase_record& p,
                const std::vector<const persistence::attempt_record*>* attempts)
{
    json j = {{"phase", p.phase_id},
              {"name", instance_name(p.phase_id, p.iteration, p.item)},
              {"iteration", p.iteration},
              {"item", p.item ? json(*p.item) : json(nullptr)},
              {"status", std::string(persistence::to_string(p.status))},
              {"provider", p.provider},
              {"model", p.model},
              {"input_tokens", p.input_tokens},
              {"output_tokens", p.output_tokens},
              {"cost_usd", p.cost_usd ? json(*p.cost_usd) : json(nullptr)},  // null: unknown
              {"duration_ms", detail::instance_duration(p).count()},
              {"started", optional_time(p.started)},
              {"finished", optional_time(p.finished)},
              {"error", detail::sanitize_utf8(p.error)},
              {"attempts", json::array()}};
    if (const auto code = detail::command_exit_code(in, p))
        j["exit_code"] = *code;
    if (attempts)
        for (const auto* a : *attempts)
            j["attempts"].push_back(attempt_json(*a));
    return j;
}

}  // namespace

nlohmann::json json_report(const report_input& in)
{
    const auto attempts = detail::attempts_by_instance(in);
    json phases = json::array();
    json totals = {{"phases", 0},         {"completed", 0},    {"failed", 0},       {"skipped", 0},
                   {"cancelled", 0},      {"waiting", 0},      {"running", 0},      {"input_tokens", 0},
                   {"output_tokens", 0},  {"cost_usd", 0.0},   {"duration_ms", 0}};
    std::int64_t input = 0, output = 0, duration = 0;
    cost_total cost;
    for (const auto& p : in.phases)
    {
        const auto it = attempts.find(detail::key_of(p.phase_id, p.iteration, p.item));
        phases.push_back(phase_json(in, p, it == attempts.end() ? nullptr : &it->second));
        totals["phases"] = totals["phases"].get<int>() + 1;
        const std::string status(persistence::to_string(p.status));
        totals[status] = totals[status].get<int>() + 1;
        input += p.input_tokens;
        output += p.output_tokens;
        cost.add(p.cost_usd);
        duration += detail::instance_duration(p).count();
    }
    totals["input_tokens"] = input;
    totals["output_tokens"] = output;
    // With an unpriced phase the total is unknown (null), never the known part passed off as it.
    totals["cost_usd"] = cost.exact() ? json(cost.known_usd) : json(nullptr);
    totals["cost_usd_known"] = cost.known_usd;
    totals["unpriced_phases"] = cost.unknown;
    totals["duration_ms"] = duration;
    const json run = {{"id", in.run.id},
                      {"workflow", in.run.workflow},
                      {"status", std::string(persistence::to_string(in.run.status))},
                      {"mix", in.run.mix},
                      {"error", detail::sanitize_utf8(in.run.error)},
                      {"created", detail::iso8601(in.run.created)},
                      {"finished", optional_time(in.run.finished)},
                      {"parent_run_id", in.run.parent_run_id.empty() ? json(nullptr) : json(in.run.parent_run_id)}};
    return {{"report", "ep-run"}, {"version", 1}, {"run", run}, {"totals", totals}, {"phases", phases}};
}

std::string render_report(const report_input& in, report_format format)
{
    if (format == report_format::junit)
        return junit_report(in);
    return json_report(in).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

ws_result<report_target> parse_report_option(std::string_view value)
{
    const auto eq = value.find('=');
    const std::string_view kind = value.substr(0, eq);
    auto refuse = [&](const std::string& why) {
        return make_workspace_error(workspace_errc::invalid_path, std::string(value),
                                    "--report " + std::string(value) + ": " + why);
    };
    if (eq == std::string_view::npos || eq + 1 == value.size())
        return refuse("expected junit=FILE or json=FILE");
    report_target t;
    if (kind == "junit")
        t.format = report_format::junit;
    else if (kind == "json")
        t.format = report_format::json;
    else
        return refuse("unknown format `" + std::string(kind) + "` (junit or json)");
    t.path = std::string(value.substr(eq + 1));
    return t;
}

ws_result<void> write_report_file(const std::filesystem::path& path, std::string_view content)
{
    const std::string shown = path.string();
    auto fail = [&](int err, const char* what) {
        return make_workspace_error(workspace_errc::io_error, shown,
                                    "cannot write the report `" + shown + "`: " + what + ": " + std::strerror(err));
    };
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto temp = dir / ("." + path.filename().string() + ".tmp-" + std::to_string(rng() % 1000000000));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return fail(errno, "creating a temporary file");
    std::size_t done = 0;
    while (done < content.size())
    {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
        {
            const int err = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            return fail(err, "writing");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || ::rename(temp.c_str(), path.c_str()) != 0)
    {
        const int err = errno;
        ::unlink(temp.c_str());
        return fail(err, "replacing the file");
    }
    return {};
}

}  // namespace ep::engine
