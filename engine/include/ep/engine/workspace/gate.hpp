#pragma once
// `gate: {min_pass_rate, max_duration, max_cost_usd}` on a command or JSON phase: evaluated after
// the phase; a failed gate fails the phase (or feeds a `repeat`). Pure functions.
//
// min_pass_rate (0…1) needs a test summary, taken from (first found):
// 1. a JUnit XML document the command wrote (the caller reads the file and passes its text):
//    the counts of its <testsuite> elements (tests, failures, errors, skipped), summed; without
//    counts, its <testcase> elements and their <failure>/<error>/<skipped> children;
// 2. the command's output, the LAST summary line in it of
//    - pytest: "3 failed, 10 passed, 1 skipped, 2 errors in 0.52s" (with or without the ===
//      rule; xpassed counts as passed, xfailed as skipped; "no tests ran" is zero tests);
//    - python unittest: "Ran 12 tests in 0.003s" followed by "OK", "OK (skipped=1)" or
//      "FAILED (failures=2, errors=1, skipped=1, expected failures=1, unexpected successes=1)"
//      (expected failures count as skipped, unexpected successes as failures).
// pass rate = passed / (passed + failed + errors); skipped tests do not count. No summary, or
// zero tests run, fails a min_pass_rate gate (with that reason).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ep::engine {

struct gate_spec
{
    std::optional<double> min_pass_rate;                   // 0…1
    std::optional<std::chrono::milliseconds> max_duration;
    std::optional<double> max_cost_usd;

    bool empty() const noexcept { return !min_pass_rate && !max_duration && !max_cost_usd; }
};

struct test_summary
{
    std::int64_t passed = 0;
    std::int64_t failed = 0;
    std::int64_t errors = 0;
    std::int64_t skipped = 0;
    std::string source;  // "pytest", "unittest" or "junit"

    std::int64_t ran() const noexcept { return passed + failed + errors; }
    double pass_rate() const noexcept { return ran() ? static_cast<double>(passed) / static_cast<double>(ran()) : 0.0; }
    nlohmann::json to_json() const;
};

/// The last pytest or unittest summary in `output`, or nullopt.
std::optional<test_summary> parse_test_summary(std::string_view output);

/// The counts of a JUnit XML document, or nullopt when it is not one (or not well-formed).
std::optional<test_summary> parse_junit_summary(std::string_view xml);

struct gate_input
{
    std::chrono::milliseconds duration{0};
    std::optional<double> cost_usd = 0.0;  // nullopt: unknown (fails a max_cost_usd)
    std::string output;                    // a command phase's output (stdout + stderr)
    std::optional<std::string> junit_xml;  // a JUnit XML file the command wrote, if any
};

struct gate_result
{
    bool passed = true;
    std::vector<std::string> failures;  // one sentence per failed condition
    std::optional<test_summary> tests;  // when min_pass_rate was evaluated and a summary found

    /// "gate failed: …; …" (empty when passed).
    std::string message() const;
    /// {passed, failures[], tests{passed, failed, errors, skipped, pass_rate, source} | null}
    nlohmann::json to_json() const;
};

gate_result evaluate_gate(const gate_spec& gate, const gate_input& in);

/// Reads a gate from JSON (the workflow's `gate:` mapping converted by the loader):
/// min_pass_rate a number in [0, 1], max_duration a duration string ("90s", "5m") or a number of
/// seconds, max_cost_usd a number ≥ 0; no other keys. nullopt with `error` set otherwise.
std::optional<gate_spec> parse_gate_spec(const nlohmann::json& j, std::string& error);

}  // namespace ep::engine
