// ep-run's terminal view (a sink of the run's events): plain lines, the final table, --quiet.
#include <ep/cli/console.hpp>

#include <gtest/gtest.h>

#include <sstream>

namespace ep::cli {
namespace {

namespace events = ep::engine::events;

TEST(event_sinks, console_prints_plain_lines_and_a_final_table_with_the_resume_command)
{
    std::ostringstream err;
    console_options o;
    o.phases = {"a", "b"};
    o.resume_command = "ep-run --resume {run_id} --db x.db";
    auto sink = make_console_sink(err, o);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::phase_started("r1", "a", 1, "openai", "gpt"));
    sink->on_event(events::text_delta("r1", "a", "hello"));
    sink->on_event(events::phase_completed("r1", "a", "openai", "gpt", 12, 34, 0.5, "hello"));
    sink->on_event(events::phase_failed("r1", "b", "boom"));
    sink->on_event(events::run_completed("r1", "failed"));
    const auto s = err.str();
    EXPECT_NE(s.find("[a] completed"), std::string::npos) << s;
    EXPECT_NE(s.find("[b] failed: boom"), std::string::npos) << s;
    EXPECT_NE(s.find("openai/gpt"), std::string::npos);
    EXPECT_NE(s.find("12/34"), std::string::npos);
    EXPECT_NE(s.find("$0.5000"), std::string::npos);
    EXPECT_NE(s.find("ep-run --resume r1 --db x.db"), std::string::npos) << s;
    EXPECT_EQ(s.find("\x1b["), std::string::npos) << "no escape codes when not a terminal";
}

// A model without a price: its phase's cost is "unknown" and the total a lower bound, never $0.
TEST(event_sinks, console_shows_an_unknown_cost_as_unknown_and_the_total_as_a_lower_bound)
{
    std::ostringstream err;
    console_options o;
    o.phases = {"a", "b"};
    auto sink = make_console_sink(err, o);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::phase_completed("r1", "a", "openai", "gpt", 12, 34, 0.5, "x"));
    sink->on_event(events::phase_completed("r1", "b", "ollama", "llama3.1", 5, 6, std::nullopt, "y"));
    sink->on_event(events::run_completed("r1", "succeeded"));
    const auto s = err.str();
    EXPECT_NE(s.find("[b] completed"), std::string::npos) << s;
    EXPECT_NE(s.find("5+6 tokens, cost unknown)"), std::string::npos) << s;
    EXPECT_NE(s.find("≥ $0.5000 (1 unpriced)"), std::string::npos) << s;
    EXPECT_EQ(s.find("$0.0000"), std::string::npos) << "an unknown cost is never shown as $0: " << s;
}

TEST(event_sinks, quiet_console_prints_only_failures_and_the_summary)
{
    std::ostringstream err;
    console_options o;
    o.quiet = true;
    auto sink = make_console_sink(err, o);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::phase_started("r1", "a", 1, "openai", "gpt"));
    sink->on_event(events::phase_completed("r1", "a", "openai", "gpt", 1, 2, 0, "x"));
    sink->on_event(events::run_completed("r1", "succeeded"));
    const auto s = err.str();
    EXPECT_TRUE(s.empty()) << "--quiet prints nothing but errors: " << s;
}

TEST(event_sinks, quiet_console_prints_a_failure_and_the_resume_command)
{
    std::ostringstream err;
    console_options o;
    o.quiet = true;
    auto sink = make_console_sink(err, o);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::phase_started("r1", "a", 1, "openai", "gpt"));
    sink->on_event(events::phase_failed("r1", "a", "boom"));
    sink->on_event(events::run_completed("r1", "failed"));
    const auto s = err.str();
    EXPECT_EQ(s.find("started"), std::string::npos) << s;
    EXPECT_EQ(s.find("provider/model"), std::string::npos) << "no table: " << s;
    EXPECT_NE(s.find("run r1: failed"), std::string::npos) << s;
    EXPECT_NE(s.find("a: boom"), std::string::npos) << s;
    EXPECT_NE(s.find("resume with: ep-run --resume r1"), std::string::npos) << s;
}

TEST(event_sinks, a_command_phase_shows_what_it_runs_and_its_exit_code_not_a_provider)
{
    std::ostringstream err;
    console_options o;
    o.phases = {"test"};
    auto sink = make_console_sink(err, o);
    sink->on_event(events::run_started("r1", "wf", "A"));
    sink->on_event(events::phase_started("r1", "test", 1, "", ""));  // a command phase: no model
    sink->on_event(engine::run_event{"command_started", "r1", {}, {{"phase", "test"}, {"argv", nlohmann::json::array({"make", "check"})}}});
    sink->on_event(engine::run_event{"command_completed", "r1", {}, {{"phase", "test"}, {"exit_code", 0}}});
    sink->on_event(events::phase_completed("r1", "test", "", "", 0, 0, 0, "ok"));
    sink->on_event(events::run_completed("r1", "succeeded"));
    const auto s = err.str();
    EXPECT_NE(s.find("[test] running: make check"), std::string::npos) << s;
    EXPECT_EQ(s.find("[test] started"), std::string::npos) << "no provider line for a command: " << s;
    EXPECT_EQ(s.find(" /"), std::string::npos) << "no empty provider/model: " << s;
    EXPECT_NE(s.find("exit code 0"), std::string::npos) << s;
}

}  // namespace
}  // namespace ep::cli
