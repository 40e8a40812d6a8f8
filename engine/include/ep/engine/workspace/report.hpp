#pragma once
// Quality reports of a run (`--report junit=FILE|json=FILE`), built from what the store keeps.
//
// JUnit XML (what CI systems read as is): one <testsuites> with one <testsuite> named after the
// workflow, one <testcase> per phase instance in the order given:
// - name "PHASE", "PHASE #N" (iteration N > 1), "PHASE[I]" (fan-out item I), classname the
//   workflow, time in seconds (started → finished);
// - <properties> on the suite (run id, mix, status, totals) and on each case (provider, model,
//   input_tokens, output_tokens, cost_usd, attempts, iteration, item, status, and exit_code
//   for command phases);
// - failed → <failure message type="failed">; cancelled or never finished (running) →
//   <error>; skipped and waiting (an approval gate) → <skipped>; a command phase's output
//   (its tail, 64 KiB at most) in <system-out>.
// The suite counts (tests, failures, errors, skipped) always match its cases. Text is made
// valid XML 1.0 (invalid UTF-8 and control characters become U+FFFD).
//
// JSON: {"run": {…}, "totals": {…}, "phases": [{…, "attempts": [{…}]}]}, described by
// schemas/report.schema.json.

#include <ep/engine/workspace/errors.hpp>
#include <ep/persistence/records.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

struct report_input
{
    persistence::run_record run;
    std::vector<persistence::phase_record> phases;      // instances, in the order to report
    std::vector<persistence::attempt_record> attempts;  // matched to instances by (phase, iteration, item)
    std::set<std::string> command_phases;               // ids of command phases (exit code reported)
};

/// "review", "review #2", "build[3]", "build #2[3]".
std::string instance_name(const std::string& phase, int iteration, const std::optional<int>& item);

std::string junit_report(const report_input& in);
nlohmann::json json_report(const report_input& in);

enum class report_format { junit, json };

struct report_target
{
    report_format format = report_format::junit;
    std::filesystem::path path;
};

/// Parses `--report` values: "junit=FILE" or "json=FILE". io_error-free: invalid_path with the
/// reason for anything else.
ws_result<report_target> parse_report_option(std::string_view value);

/// The report for `target.format`.
std::string render_report(const report_input& in, report_format format);

/// Writes `content` to `path` (anywhere the user chose) atomically: a temporary file beside it,
/// then rename. Errors: io_error with the path and the system's reason.
ws_result<void> write_report_file(const std::filesystem::path& path, std::string_view content);

}  // namespace ep::engine
