// Gates and the test summaries they read (pytest, unittest, JUnit XML).
#include <ep/engine/workspace/gate.hpp>

#include <gtest/gtest.h>

namespace ep::engine {
namespace {

using namespace std::chrono_literals;

struct summary_case
{
    const char* name;
    std::string output;
    std::int64_t passed, failed, errors, skipped;
    const char* source;
};

class summary_line : public ::testing::TestWithParam<summary_case>
{
};

TEST_P(summary_line, is_read_from_the_output)
{
    const auto& c = GetParam();
    auto t = parse_test_summary(c.output);
    ASSERT_TRUE(t) << c.output;
    EXPECT_EQ(t->passed, c.passed);
    EXPECT_EQ(t->failed, c.failed);
    EXPECT_EQ(t->errors, c.errors);
    EXPECT_EQ(t->skipped, c.skipped);
    EXPECT_EQ(t->source, c.source);
}

INSTANTIATE_TEST_SUITE_P(
    formats, summary_line,
    ::testing::Values(
        summary_case{"pytest_rule", "....F\n=========== 1 failed, 4 passed in 0.12s ===========\n", 4, 1, 0, 0, "pytest"},
        summary_case{"pytest_quiet", "....\n4 passed in 0.01s\n", 4, 0, 0, 0, "pytest"},
        summary_case{"pytest_everything",
                     "== 2 failed, 10 passed, 3 skipped, 1 xfailed, 1 xpassed, 2 errors, 4 warnings, 1 deselected "
                     "in 65.43s (0:01:05) ==",
                     11, 2, 2, 4, "pytest"},
        summary_case{"pytest_one_error", "= 1 error in 0.30s =", 0, 0, 1, 0, "pytest"},
        summary_case{"pytest_no_tests", "no tests ran in 0.01s\n", 0, 0, 0, 0, "pytest"},
        summary_case{"unittest_ok", "...\n------------------------------------------------------------------\n"
                                    "Ran 3 tests in 0.001s\n\nOK\n",
                     3, 0, 0, 0, "unittest"},
        summary_case{"unittest_ok_skipped", "Ran 4 tests in 0.002s\n\nOK (skipped=1)\n", 3, 0, 0, 1, "unittest"},
        summary_case{"unittest_failed",
                     "F.E.\n======\nFAIL: test_x\n------\nRan 6 tests in 0.004s\n\n"
                     "FAILED (failures=2, errors=1, skipped=1, expected failures=1, unexpected successes=1)\n",
                     0, 3, 1, 2, "unittest"},
        summary_case{"unittest_single", "Ran 1 test in 0.000s\n\nOK\n", 1, 0, 0, 0, "unittest"},
        summary_case{"last_summary_wins",
                     "Ran 2 tests in 0.1s\n\nFAILED (failures=2)\n... then a re-run ...\n3 passed in 0.2s\n", 3, 0, 0,
                     0, "pytest"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(test_summary, prose_is_not_a_summary)
{
    for (const char* text : {"", "all good\n", "Ran out of time in 3s\n", "passed in 0.1s", "3 apples in 2s",
                             "Ran 3 tests in 0.1s\n\nMAYBE\n", "4 passed\n"})
        EXPECT_FALSE(parse_test_summary(text)) << text;
}

TEST(junit_summary, sums_suites_and_falls_back_to_counting_cases)
{
    auto t = parse_junit_summary(R"(<?xml version="1.0"?>
<testsuites><testsuite name="a" tests="5" failures="1" errors="1" skipped="1"/>
<testsuite name="b" tests="3" failures="0" errors="0"/></testsuites>)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->passed, 5);
    EXPECT_EQ(t->failed, 1);
    EXPECT_EQ(t->errors, 1);
    EXPECT_EQ(t->skipped, 1);
    EXPECT_EQ(t->source, "junit");

    auto cases = parse_junit_summary(R"(<testsuite name="x"><testcase name="1"/><testcase name="2"><failure/></testcase>
<testcase name="3"><skipped/></testcase><testcase name="4"><error message="boom"/></testcase></testsuite>)");
    ASSERT_TRUE(cases);
    EXPECT_EQ(cases->passed, 1);
    EXPECT_EQ(cases->failed, 1);
    EXPECT_EQ(cases->skipped, 1);
    EXPECT_EQ(cases->errors, 1);

    EXPECT_FALSE(parse_junit_summary("<html/>"));
    EXPECT_FALSE(parse_junit_summary("<testsuite tests='1'"));
    EXPECT_FALSE(parse_junit_summary("not xml at all"));
}

TEST(junit_summary, does_not_expand_external_entities)
{
    auto t = parse_junit_summary(R"(<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<testsuite name="t" tests="1" failures="0" errors="0"><system-out>&x;</system-out></testsuite>)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->passed, 1);
}

TEST(gate, min_pass_rate_passes_and_fails_on_the_parsed_rate)
{
    gate_spec g;
    g.min_pass_rate = 0.9;
    gate_input in;
    in.output = "Ran 10 tests in 0.1s\n\nFAILED (failures=1)\n";
    auto r = evaluate_gate(g, in);
    EXPECT_TRUE(r.passed) << r.message();
    ASSERT_TRUE(r.tests);
    EXPECT_DOUBLE_EQ(r.tests->pass_rate(), 0.9);

    in.output = "Ran 10 tests in 0.1s\n\nFAILED (failures=2)\n";
    r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.message(), "gate failed: pass rate 0.800 (8 of 10 tests passed, unittest) is below min_pass_rate 0.900");
    EXPECT_EQ(r.to_json()["tests"]["failed"], 2);
}

TEST(gate, a_junit_file_is_preferred_to_the_output)
{
    gate_spec g;
    g.min_pass_rate = 1.0;
    gate_input in;
    in.output = "5 passed in 0.1s\n";
    in.junit_xml = R"(<testsuite name="t" tests="5" failures="1" errors="0"/>)";
    auto r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.tests->source, "junit");
    in.junit_xml = "garbage";
    EXPECT_TRUE(evaluate_gate(g, in).passed) << "an unreadable JUnit file falls back to the output";
}

TEST(gate, no_summary_or_no_tests_fail_a_pass_rate_gate)
{
    gate_spec g;
    g.min_pass_rate = 0.0;
    gate_input in;
    in.output = "hello\n";
    auto r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.message().find("no test summary found"), std::string::npos);
    in.output = "no tests ran in 0.01s\n";
    r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.message().find("no tests ran"), std::string::npos);
}

TEST(gate, duration_and_cost_limits)
{
    gate_spec g;
    g.max_duration = 10s;
    g.max_cost_usd = 0.5;
    gate_input in;
    in.duration = 10s;
    in.cost_usd = 0.5;
    EXPECT_TRUE(evaluate_gate(g, in).passed) << "limits are inclusive";
    in.duration = 12500ms;
    in.cost_usd = 0.75;
    auto r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.failures.size(), 2u);
    EXPECT_EQ(r.failures[0], "took 12.500 s, over max_duration 10 s");
    EXPECT_EQ(r.failures[1], "cost $0.7500, over max_cost_usd $0.5000");
    EXPECT_TRUE(evaluate_gate(gate_spec{}, in).passed) << "an empty gate passes";
}

TEST(gate, an_unknown_cost_fails_a_cost_limit)
{
    gate_spec g;
    g.max_cost_usd = 0.5;
    gate_input in;
    in.cost_usd = std::nullopt;  // a model without a price
    auto r = evaluate_gate(g, in);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0], "cost unknown (a model without a price), so max_cost_usd $0.5000 cannot be checked");
    EXPECT_TRUE(evaluate_gate(gate_spec{}, in).passed) << "without a cost limit an unknown cost is no failure";
}

TEST(gate_spec_parsing, reads_the_keys_and_refuses_bad_values)
{
    std::string error;
    auto g = parse_gate_spec(nlohmann::json::parse(R"({"min_pass_rate": 0.95, "max_duration": "5m", "max_cost_usd": 1})"),
                             error);
    ASSERT_TRUE(g) << error;
    EXPECT_DOUBLE_EQ(*g->min_pass_rate, 0.95);
    EXPECT_EQ(*g->max_duration, 5min);
    EXPECT_DOUBLE_EQ(*g->max_cost_usd, 1.0);
    auto seconds = parse_gate_spec(nlohmann::json::parse(R"({"max_duration": 90})"), error);
    ASSERT_TRUE(seconds);
    EXPECT_EQ(*seconds->max_duration, 90s);
    for (const char* bad : {R"({"min_pass_rate": 1.5})", R"({"min_pass_rate": "90%"})", R"({"max_duration": "soon"})",
                            R"({"max_cost_usd": -1})", R"({"min_pass": 1})", R"([1])"})
    {
        error.clear();
        EXPECT_FALSE(parse_gate_spec(nlohmann::json::parse(bad), error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

}  // namespace
}  // namespace ep::engine
