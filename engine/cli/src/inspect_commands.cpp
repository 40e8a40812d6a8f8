// `ep-run --list` and `ep-run --show`: what the runtime reads from the store, as tables.
#include <ep/cli/commands.hpp>
#include <ep/engine/routing/cost.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/engine/run/executor.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace ep::cli {

namespace ps = ep::persistence;

namespace {

// A left-aligned column of width `w` (one space of it separates columns); a value too long for
// it ends in '~', as in the live view, so a cut name is never mistaken for a whole one.
std::string cell(std::string s, std::size_t w)
{
    if (s.size() >= w)
        s = s.substr(0, w - 2) + "~";
    s.resize(w, ' ');
    return s;
}

constexpr std::size_t listed_runs = 50;

// How long a run has taken: its recorded duration; for a run still going, the time so far, up
// to its owner's last heartbeat once that is stale as the executor judges it (an owner that
// died stops the clock there).
std::chrono::milliseconds run_duration(const ps::run_record& r)
{
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    if (r.status != ps::run_status::running && r.status != ps::run_status::pending)
        return r.totals.duration;
    auto until = ps::now_ms();
    if (r.heartbeat && until - *r.heartbeat > engine::executor_options{}.lease_ttl)
        until = *r.heartbeat;
    return std::max(r.totals.duration, duration_cast<milliseconds>(until - r.created));
}

std::string secs(std::chrono::milliseconds d)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

// "$0.0123", or "≥ $0.0123 (1 unpriced)" when phases of models without a price ran.
std::string total_cost(const ps::run_totals& t)
{
    return engine::cost_text(engine::cost_total{t.cost_usd, t.unpriced_phases});
}

// "review", "review #2" (a loop's second pass), "build[3]" (a fan-out item).
std::string instance_name(const ps::phase_record& p)
{
    std::string name = p.phase_id;
    if (p.iteration > 1)
        name += " #" + std::to_string(p.iteration);
    if (p.item)
        name += "[" + std::to_string(*p.item) + "]";
    return name;
}

// --show RUN --output PHASE [--iteration N] [--item N]: one instance's output (the last pass by
// default; the phase's own row, for a fan-out its aggregate, unless --item).
int print_output(cli_context& ctx, const std::string& id, const std::vector<ps::phase_record>& phases)
{
    const auto& o = ctx.options;
    const ps::phase_record* found = nullptr;
    for (const auto& p : phases)
        if (p.phase_id == o.output_phase && p.item == o.item && (!o.iteration || p.iteration == *o.iteration) &&
            (!found || p.iteration > found->iteration))
            found = &p;
    if (!found)
    {
        ctx.err << "ep-run: run " << id << " has no phase '" << o.output_phase << "'"
                << (o.iteration ? " iteration " + std::to_string(*o.iteration) : "")
                << (o.item ? " item " + std::to_string(*o.item) : "") << "\n";
        return 2;
    }
    if (found->status != ps::phase_status::completed)
    {
        ctx.err << "ep-run: phase '" << instance_name(*found) << "' is " << ps::to_string(found->status)
                << "; it has no output\n";
        return 1;
    }
    ctx.out << found->output_text;
    if (found->output_text.empty() || found->output_text.back() != '\n')
        ctx.out << "\n";
    return 0;
}

}  // namespace

int list_command(cli_context& ctx)
{
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, ctx.env));
    auto listed = rt.list(listed_runs);
    if (!listed)
    {
        print_problems(ctx, listed.error());
        return exit_code_for(listed.error());
    }
    if (listed->store_missing)
    {
        ctx.err << "no runs yet (" << rt.store_location() << " does not exist)\n";
        return 0;
    }
    const auto* runs = &listed->runs;
    const bool more = listed->more;
    // The workflow column fits the longest name shown, up to a limit that keeps a row on a line.
    std::size_t workflow_width = 10;
    for (const auto& r : *runs)
        workflow_width = std::max(workflow_width, std::min<std::size_t>(r.workflow.size() + 2, 40));
    auto& out = ctx.out;
    out << cell("RUN", 27) << cell("WORKFLOW", workflow_width) << cell("STATUS", 12) << cell("MIX", 5)
        << cell("CREATED", 26) << cell("DURATION", 10) << cell("TOKENS", 10) << "COST\n";
    for (const auto& r : *runs)
        out << cell(r.id, 27) << cell(r.workflow, workflow_width) << cell(std::string(ps::to_string(r.status)), 12)
            << cell(r.mix, 5) << cell(engine::format_rfc3339(r.created), 26) << cell(secs(run_duration(r)), 10)
            << cell(std::to_string(r.totals.input_tokens + r.totals.output_tokens), 10) << total_cost(r.totals)
            << "\n";
    if (more)
        ctx.err << "(the newest " << listed_runs << " runs; older ones are still stored: ep-run --show RUN_ID)\n";
    return 0;
}

int show_command(cli_context& ctx)
{
    asio::io_context ioc;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, ctx.env));
    const auto& id = ctx.options.run_id;
    auto shown = rt.show(id);
    if (!shown)
    {
        print_problems(ctx, shown.error());
        return exit_code_for(shown.error());
    }
    const auto* run = &shown->run;
    const auto* phases = &shown->phases;
    const auto* attempts = &shown->attempts;
    if (!ctx.options.output_phase.empty())
        return print_output(ctx, id, *phases);

    auto& out = ctx.out;
    const auto& r = *run;
    out << "run       " << r.id << "\n"
        << "workflow  " << r.workflow << " (definition sha256 " << r.definition_hash.substr(0, 12) << ")\n"
        << "mix       " << r.mix << "\n"
        << "status    " << ps::to_string(r.status) << (r.error.empty() ? "" : " — " + r.error) << "\n"
        << "created   " << engine::format_rfc3339(r.created) << "\n"
        << "duration  " << secs(run_duration(r))
        << (r.status == ps::run_status::running ? " (still running, or its owner died)" : "") << "\n"
        << "tokens    " << r.totals.input_tokens << " in / " << r.totals.output_tokens << " out\n"
        << "cost      " << total_cost(r.totals) << "\n";
    if (!r.owner.empty())
        out << "owner     " << r.owner << "\n";
    if (!r.parent_run_id.empty())
        out << "forked    from run " << r.parent_run_id << " at phase '" << r.parent_phase << "'\n";
    out << "\n" << cell("PHASE", 18) << cell("STATUS", 11) << cell("PROVIDER/MODEL", 36) << cell("TIME", 8)
        << cell("TOKENS IN/OUT", 15) << cell("COST", 10) << "ATTEMPTS\n";
    for (const auto& p : *phases)
    {
        std::chrono::milliseconds d{0};
        if (p.started && p.finished)
            d = *p.finished - *p.started;
        else if (p.started && p.status == ps::phase_status::running)
            d = std::chrono::duration_cast<std::chrono::milliseconds>(ps::now_ms() - *p.started);
        out << cell(instance_name(p), 18) << cell(std::string(ps::to_string(p.status)), 11)
            << cell(p.provider.empty() ? "-" : p.provider + "/" + p.model, 36) << cell(secs(d), 8)
            << cell(std::to_string(p.input_tokens) + "/" + std::to_string(p.output_tokens), 15)
            << cell(engine::cost_text(p.cost_usd), 10) << p.attempts << "\n";
        if (!p.error.empty())
            out << "    " << p.error << "\n";
        for (const auto& a : *attempts)
            if (a.phase_id == p.phase_id && a.iteration == p.iteration && a.item == p.item &&
                a.outcome != ps::attempt_outcome::ok)
                out << "    attempt " << a.attempt << " " << a.provider << "/" << a.model << ": "
                    << ps::to_string(a.outcome) << (a.error.empty() ? "" : " — " + a.error) << "\n";
    }
    return 0;
}

}  // namespace ep::cli
