// The human view of a run on stderr: a live table on a terminal, plain lines otherwise, and a
// final per-phase table with totals and (when the run did not succeed) the resume command.
#include <ep/cli/console.hpp>
#include <ep/engine/routing/cost.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>

namespace ep::cli {

namespace {

using clock_type = std::chrono::steady_clock;

std::string fmt_duration(std::chrono::milliseconds d)
{
    char buf[32];
    const double s = static_cast<double>(d.count()) / 1000.0;
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%.1fs", s);
    else
        std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    return buf;
}


std::string pad(std::string s, std::size_t w)
{
    if (s.size() > w)
        s = s.substr(0, w - 1) + "~";
    s.resize(w, ' ');
    return s;
}

// "review", "review #2" (a loop's second pass), "build[3]" (a fan-out item).
std::string instance_label(const run_event& ev)
{
    std::string label = ev.field("phase");
    if (auto it = ev.fields.find("iteration"); it != ev.fields.end() && it->is_number_integer() && it->get<int>() > 1)
        label += " #" + std::to_string(it->get<int>());
    if (auto it = ev.fields.find("item"); it != ev.fields.end() && it->is_number_integer())
        label += "[" + std::to_string(it->get<int>()) + "]";
    return label;
}

class console_sink final : public event_sink
{
public:
    console_sink(std::ostream& err, console_options opts) : err_(err), opts_(std::move(opts))
    {
        for (const auto& id : opts_.phases)
            row_of(id);
    }

    void on_event(const run_event& ev) override
    {
        if (run_id_.empty())
            run_id_ = ev.run_id;
        const auto phase = instance_label(ev);
        bool changed = true;
        if (ev.type == "run_started")
        {
            started_ = clock_type::now();
            if (!opts_.quiet && !opts_.tty)
                line("run " + ev.run_id + " started: workflow " + ev.field("workflow") + ", mix " + ev.field("mix"));
        }
        else if (ev.type == "phase_started" && ev.field("provider").empty())
            changed = false;  // a command phase: command_started follows and shows what it runs
        else if (ev.type == "phase_started")
        {
            auto& r = row_of(phase);
            if (r.state != "running")
                r.start = clock_type::now();
            r.state = "running";
            r.provider = ev.field("provider") + "/" + ev.field("model");
            r.text.clear();
            r.chars = 0;
            current_ = phase;
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] started (attempt " + ev.fields.value("attempt", nlohmann::json(1)).dump() +
                     ", " + r.provider + ")");
        }
        else if (ev.type == "command_started")
        {
            // A command phase: no provider; the program and then its exit code take that column.
            auto& r = row_of(phase);
            r.start = clock_type::now();
            r.state = "running";
            std::string argv;
            for (const auto& a : ev.fields.value("argv", nlohmann::json::array()))
                argv += (argv.empty() ? "" : " ") + (a.is_string() ? a.get<std::string>() : a.dump());
            r.provider = "command";
            current_ = phase;
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] running: " + argv);
        }
        else if (ev.type == "command_completed")
            row_of(phase).provider = "exit code " + ev.fields.value("exit_code", nlohmann::json(-1)).dump();
        else if (ev.type == "text_delta")
        {
            auto& r = row_of(phase);
            const auto t = ev.field("text");
            r.chars += t.size();
            r.text += t;
            if (r.text.size() > 4000)
                r.text.erase(0, r.text.size() - 2000);
            current_ = phase;
            changed = false;
        }
        else if (ev.type == "attempt_failed")
        {
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] attempt " + ev.fields.value("attempt", nlohmann::json(0)).dump() + " on " +
                     ev.field("provider") + " failed: " + ev.field("error"));
            row_of(phase).note = "retrying: " + ev.field("error");
        }
        else if (ev.type == "phase_completed")
        {
            auto& r = row_of(phase);
            r.state = "completed";
            if (!ev.field("provider").empty())
                r.provider = ev.field("provider") + "/" + ev.field("model");
            r.in = ev.fields["usage"].value("input_tokens", std::int64_t{0});
            r.out = ev.fields["usage"].value("output_tokens", std::int64_t{0});
            r.cost = ev.cost_usd();
            r.elapsed = since(r.start);
            r.note.clear();
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] completed in " + fmt_duration(r.elapsed) + " (" + r.provider + ", " +
                     std::to_string(r.in) + "+" + std::to_string(r.out) + " tokens, cost " + engine::cost_text(r.cost) + ")");
        }
        else if (ev.type == "phase_failed")
        {
            auto& r = row_of(phase);
            const auto e = ev.field("error");
            const bool cancelled = e.rfind("cancelled", 0) == 0;
            r.state = cancelled ? "cancelled" : "failed";
            r.note = e;
            r.elapsed = since(r.start);
            // A cancellation's error already starts with the state ("cancelled: interrupted").
            if (!opts_.tty)
                line("[" + phase + "] " + (cancelled ? e : "failed: " + e));
        }
        else if (ev.type == "phase_waiting")
        {
            auto& r = row_of(phase);
            r.state = "waiting";
            r.note = ev.field("prompt");
            if (!opts_.tty)
                line("[" + phase + "] waiting for an approval: " + r.note);
        }
        else if (ev.type == "approval_recorded")
        {
            const auto comment = ev.field("comment");
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] " + (ev.field("decision") == "approve" ? "approved" : "rejected") +
                     (comment.empty() ? "" : ": " + comment));
        }
        else if (ev.type == "phase_skipped")
        {
            auto& r = row_of(phase);
            r.state = "skipped";
            r.note = ev.field("reason");
            if (!opts_.quiet && !opts_.tty)
                line("[" + phase + "] skipped: " + r.note);
        }
        else if (ev.type == "run_completed")
        {
            if (opts_.tty)
                clear_live();
            if (!opts_.quiet)
                final_table(ev.field("status"));
            else if (ev.field("status") != "succeeded")
                failure_summary(ev.field("status"));  // --quiet: nothing but errors
            return;
        }
        if (opts_.tty && !opts_.quiet)
            redraw(changed);
    }

private:
    struct row
    {
        std::string id;
        std::string state = "pending";
        std::string provider;
        clock_type::time_point start{};
        std::chrono::milliseconds elapsed{0};
        std::size_t chars = 0;
        std::int64_t in = 0, out = 0;
        std::optional<double> cost = 0.0;  // nullopt: unknown (a model without a price)
        std::string note;
        std::string text;  // tail of the streamed answer
    };

    row& row_of(const std::string& id)
    {
        for (auto& r : rows_)
            if (r.id == id)
                return r;
        rows_.push_back(row{});
        rows_.back().id = id;
        return rows_.back();
    }

    static std::chrono::milliseconds since(clock_type::time_point t)
    {
        if (t == clock_type::time_point{})
            return std::chrono::milliseconds{0};
        return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
    }

    void line(const std::string& s) { err_ << s << '\n' << std::flush; }

    void clear_live()
    {
        if (drawn_ > 0)
            err_ << "\x1b[" << drawn_ << "F\x1b[J";
        drawn_ = 0;
    }

    void redraw(bool force)
    {
        const auto now = clock_type::now();
        if (!force && now - last_draw_ < opts_.redraw_interval)
            return;
        last_draw_ = now;
        std::ostringstream o;
        int lines = 0;
        for (const auto& r : rows_)
        {
            const auto el = r.state == "running" ? since(r.start) : r.elapsed;
            const auto tokens = r.state == "completed" ? r.out : static_cast<std::int64_t>(r.chars / 4);
            std::string rate;
            if (el.count() > 0 && tokens > 0)
            {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.0f tok/s", static_cast<double>(tokens) * 1000.0 / el.count());
                rate = buf;
            }
            o << "  " << pad(r.state, 10) << pad(r.id, 18) << pad(r.provider, 34) << pad(fmt_duration(el), 8)
              << pad(std::to_string(tokens) + " tok", 11) << rate << "\x1b[K\n";
            ++lines;
        }
        if (!current_.empty())
        {
            const auto& r = row_of(current_);
            if (r.state == "running" && !r.text.empty())
            {
                // The last few lines of the running phase's answer.
                std::vector<std::string> tail;
                std::string cur;
                for (char c : r.text)
                {
                    if (c == '\n')
                    {
                        tail.push_back(cur);
                        cur.clear();
                    }
                    else
                        cur += c;
                }
                tail.push_back(cur);
                const std::size_t keep = 6;
                const std::size_t from = tail.size() > keep ? tail.size() - keep : 0;
                o << "  \x1b[2m── " << current_ << " ──\x1b[K\n";
                ++lines;
                for (std::size_t i = from; i < tail.size(); ++i)
                {
                    o << "  " << pad(tail[i], 110) << "\x1b[K\n";
                    ++lines;
                }
                o << "\x1b[0m";
            }
        }
        clear_live();
        err_ << o.str() << std::flush;
        drawn_ = lines;
    }

    void final_table(const std::string& status)
    {
        std::ostringstream o;
        o << "\n  " << pad("phase", 18) << pad("status", 11) << pad("provider/model", 34) << pad("time", 8)
          << pad("tokens in/out", 16) << "cost\n";
        std::int64_t tin = 0, tout = 0;
        engine::cost_total tcost;
        for (const auto& r : rows_)
        {
            o << "  " << pad(r.id, 18) << pad(r.state, 11) << pad(r.provider.empty() ? "-" : r.provider, 34)
              << pad(r.state == "pending" || r.state == "skipped" ? "-" : fmt_duration(r.elapsed), 8)
              << pad(std::to_string(r.in) + "/" + std::to_string(r.out), 16) << engine::cost_text(r.cost) << "\n";
            tin += r.in;
            tout += r.out;
            tcost.add(r.cost);
        }
        o << "  " << pad("total", 18) << pad("", 11) << pad("", 34) << pad(fmt_duration(since(started_)), 8)
          << pad(std::to_string(tin) + "/" + std::to_string(tout), 16) << engine::cost_text(tcost) << "\n";
        err_ << o.str();
        failure_summary(status);
    }

    // The run's status; when it did not succeed, why each failed phase failed and the exact
    // command that resumes it.
    void failure_summary(const std::string& status)
    {
        std::ostringstream o;
        o << "\nrun " << run_id_ << ": " << status << "\n";
        if (status != "succeeded")
        {
            for (const auto& r : rows_)
                if (r.state == "failed")
                    o << "  " << r.id << ": " << r.note << "\n";
            auto cmd = opts_.resume_command;
            if (auto p = cmd.find("{run_id}"); p != std::string::npos)
                cmd.replace(p, 8, run_id_);
            o << "resume with: " << cmd << "\n";
        }
        err_ << o.str() << std::flush;
    }

    std::ostream& err_;
    console_options opts_;
    std::vector<row> rows_;
    std::string run_id_;
    std::string current_;
    clock_type::time_point started_ = clock_type::now();
    clock_type::time_point last_draw_{};
    int drawn_ = 0;
};

}  // namespace

std::unique_ptr<event_sink> make_console_sink(std::ostream& err, console_options options)
{
    return std::make_unique<console_sink>(err, std::move(options));
}

}  // namespace ep::cli
