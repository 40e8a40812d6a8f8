// Evaluating and reading `gate:` (gate.hpp).
#include <ep/engine/workspace/gate.hpp>

#include <ep/engine/policy.hpp>  // parse_duration

#include <cmath>
#include <cstdio>

namespace ep::engine {
namespace {

std::string fixed(double v, int digits)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string seconds_text(std::chrono::milliseconds d)
{
    return fixed(static_cast<double>(d.count()) / 1000.0, d.count() % 1000 == 0 ? 0 : 3) + " s";
}

}  // namespace

std::string gate_result::message() const
{
    if (passed)
        return {};
    std::string m = "gate failed: ";
    for (std::size_t i = 0; i < failures.size(); ++i)
        m += (i ? "; " : "") + failures[i];
    return m;
}

nlohmann::json gate_result::to_json() const
{
    return {{"passed", passed}, {"failures", failures}, {"tests", tests ? tests->to_json() : nlohmann::json(nullptr)}};
}

gate_result evaluate_gate(const gate_spec& gate, const gate_input& in)
{
    gate_result r;
    if (gate.min_pass_rate)
    {
        std::optional<test_summary> t;
        if (in.junit_xml)
            t = parse_junit_summary(*in.junit_xml);
        if (!t)
            t = parse_test_summary(in.output);
        r.tests = t;
        if (!t)
            r.failures.push_back("no test summary found for min_pass_rate (expected a pytest or unittest summary "
                                 "line in the output, or a JUnit XML file)");
        else if (t->ran() == 0)
            r.failures.push_back("no tests ran (" + t->source + ")");
        else if (t->pass_rate() + 1e-12 < *gate.min_pass_rate)
            r.failures.push_back("pass rate " + fixed(t->pass_rate(), 3) + " (" + std::to_string(t->passed) + " of " +
                                 std::to_string(t->ran()) + " tests passed, " + t->source +
                                 ") is below min_pass_rate " + fixed(*gate.min_pass_rate, 3));
    }
    if (gate.max_duration && in.duration > *gate.max_duration)
        r.failures.push_back("took " + seconds_text(in.duration) + ", over max_duration " +
                             seconds_text(*gate.max_duration));
    if (gate.max_cost_usd && !in.cost_usd)
        r.failures.push_back("cost unknown (a model without a price), so max_cost_usd $" +
                             fixed(*gate.max_cost_usd, 4) + " cannot be checked");
    else if (gate.max_cost_usd && *in.cost_usd > *gate.max_cost_usd)
        r.failures.push_back("cost $" + fixed(*in.cost_usd, 4) + ", over max_cost_usd $" + fixed(*gate.max_cost_usd, 4));
    r.passed = r.failures.empty();
    return r;
}

std::optional<gate_spec> parse_gate_spec(const nlohmann::json& j, std::string& error)
{
    if (!j.is_object())
    {
        error = "gate must be a mapping with min_pass_rate, max_duration and/or max_cost_usd";
        return std::nullopt;
    }
    gate_spec g;
    for (const auto& [key, value] : j.items())
    {
        if (key == "min_pass_rate")
        {
            if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1)
            {
                error = "gate.min_pass_rate must be a number from 0 to 1 (e.g. 0.9)";
                return std::nullopt;
            }
            g.min_pass_rate = value.get<double>();
        }
        else if (key == "max_duration")
        {
            std::optional<std::chrono::milliseconds> d;
            if (value.is_number() && value.get<double>() >= 0 && std::isfinite(value.get<double>()))
                d = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(value.get<double>() * 1000)));
            else if (value.is_string())
                d = parse_duration(value.get<std::string>());
            if (!d)
            {
                error = "gate.max_duration must be a duration such as 90s, 5m or 1h (or a number of seconds)";
                return std::nullopt;
            }
            g.max_duration = d;
        }
        else if (key == "max_cost_usd")
        {
            if (!value.is_number() || value.get<double>() < 0)
            {
                error = "gate.max_cost_usd must be a number ≥ 0";
                return std::nullopt;
            }
            g.max_cost_usd = value.get<double>();
        }
        else
        {
            error = "gate: unknown key `" + key + "` (min_pass_rate, max_duration, max_cost_usd)";
            return std::nullopt;
        }
    }
    return g;
}

}  // namespace ep::engine
