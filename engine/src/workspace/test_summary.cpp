// Test summaries from pytest/unittest output and from JUnit XML (rules in gate.hpp).
#include <ep/engine/workspace/gate.hpp>

#include "workspace/text_trim.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

namespace ep::engine {
namespace {

using detail::trim;

std::optional<std::int64_t> number(std::string_view s)
{
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

/// "N word" pairs separated by ", " (pytest) or "key=N" pairs (unittest).
template <class F>
bool each_part(std::string_view list, F&& f)
{
    while (!list.empty())
    {
        const auto comma = std::min(list.find(','), list.size());
        if (!f(trim(list.substr(0, comma))))
            return false;
        list = comma < list.size() ? list.substr(comma + 1) : std::string_view{};
    }
    return true;
}

/// "== 3 failed, 10 passed in 0.52s ==", "1 passed, 1 warning in 0.01s (0:00:01)", "no tests ran in 0.01s".
std::optional<test_summary> pytest_line(std::string_view line)
{
    const std::string_view s = trim(trim(line), "= \t\r");
    const auto in = s.rfind(" in ");
    if (in == std::string_view::npos || in + 4 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[in + 4])))
        return std::nullopt;
    const std::string_view counts = s.substr(0, in);
    test_summary t;
    t.source = "pytest";
    if (counts == "no tests ran")
        return t;
    bool any = false;
    const bool ok = each_part(counts, [&](std::string_view part) {
        const auto space = part.find(' ');
        if (space == std::string_view::npos)
            return false;
        const auto n = number(part.substr(0, space));
        const auto word = part.substr(space + 1);
        if (!n)
            return false;
        if (word == "passed" || word == "xpassed")
            t.passed += *n;
        else if (word == "failed")
            t.failed += *n;
        else if (word == "error" || word == "errors")
            t.errors += *n;
        else if (word == "skipped" || word == "xfailed")
            t.skipped += *n;
        else if (word != "deselected" && word != "warning" && word != "warnings" && word != "rerun" &&
                 word != "reruns")
            return false;
        any = any || word != "deselected";
        return true;
    });
    if (!ok || !any)
        return std::nullopt;
    return t;
}

/// "Ran 12 tests in 0.003s" + the status line that follows it.
std::optional<test_summary> unittest_lines(std::string_view ran_line, std::string_view status_line)
{
    const std::string_view s = trim(ran_line);
    if (s.rfind("Ran ", 0) != 0)
        return std::nullopt;
    const auto space = s.find(' ', 4);
    if (space == std::string_view::npos)
        return std::nullopt;
    const auto total = number(s.substr(4, space - 4));
    const auto rest = s.substr(space + 1);
    if (!total || (rest.rfind("test in ", 0) != 0 && rest.rfind("tests in ", 0) != 0))
        return std::nullopt;
    const std::string_view status = trim(status_line);
    std::int64_t failures = 0, errors = 0, skipped = 0, expected = 0, unexpected = 0;
    const auto open = status.find('(');
    const std::string_view word = trim(status.substr(0, open));
    if (word != "OK" && word != "FAILED" && word != "NO TESTS RAN")
        return std::nullopt;
    if (open != std::string_view::npos && status.back() == ')')
    {
        const bool ok = each_part(status.substr(open + 1, status.size() - open - 2), [&](std::string_view part) {
            const auto eq = part.find('=');
            if (eq == std::string_view::npos)
                return false;
            const auto key = part.substr(0, eq);
            const auto n = number(part.substr(eq + 1));
            if (!n)
                return false;
            if (key == "failures")
                failures = *n;
            else if (key == "errors")
                errors = *n;
            else if (key == "skipped")
                skipped = *n;
            else if (key == "expected failures")
                expected = *n;
            else if (key == "unexpected successes")
                unexpected = *n;
            return true;
        });
        if (!ok)
            return std::nullopt;
    }
    test_summary t;
    t.source = "unittest";
    t.failed = failures + unexpected;
    t.errors = errors;
    t.skipped = skipped + expected;
    t.passed = std::max<std::int64_t>(0, *total - failures - errors - skipped - expected - unexpected);
    return t;
}

}  // namespace

nlohmann::json test_summary::to_json() const
{
    return {{"passed", passed}, {"failed", failed},        {"errors", errors},
            {"skipped", skipped}, {"pass_rate", pass_rate()}, {"source", source}};
}

std::optional<test_summary> parse_test_summary(std::string_view output)
{
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start < output.size();)
    {
        const auto nl = std::min(output.find('\n', start), output.size());
        lines.push_back(output.substr(start, nl - start));
        start = nl + 1;
    }
    for (std::size_t i = lines.size(); i-- > 0;)
    {
        if (auto t = pytest_line(lines[i]))
            return t;
        // unittest: "Ran …", a blank line, then the status line.
        std::size_t next = i + 1;
        while (next < lines.size() && trim(lines[next]).empty())
            ++next;
        if (next < lines.size())
            if (auto t = unittest_lines(lines[i], lines[next]))
                return t;
    }
    return std::nullopt;
}

namespace {

using xml_doc = std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)>;

bool named(const xmlNode* n, const char* name)
{
    return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

std::optional<std::int64_t> count_attribute(const xmlNode* n, const char* name)
{
    xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
    if (!v)
        return std::nullopt;
    const std::string text(reinterpret_cast<const char*>(v));
    xmlFree(v);
    // Some tools write "3.0"; take the integer part.
    return number(text.substr(0, text.find('.')));
}

/// Counts the <testcase> elements below `n` (for suites without count attributes).
void count_cases(const xmlNode* n, test_summary& t)
{
    for (const xmlNode* c = n->children; c; c = c->next)
    {
        if (named(c, "testcase"))
        {
            bool failed = false, error = false, skipped = false;
            for (const xmlNode* k = c->children; k; k = k->next)
            {
                failed = failed || named(k, "failure");
                error = error || named(k, "error");
                skipped = skipped || named(k, "skipped");
            }
            (error ? t.errors : failed ? t.failed : skipped ? t.skipped : t.passed) += 1;
        }
        else if (c->type == XML_ELEMENT_NODE)
            count_cases(c, t);
    }
}

void add_suite(const xmlNode* suite, test_summary& t)
{
    const auto tests = count_attribute(suite, "tests");
    if (!tests)
    {
        count_cases(suite, t);
        return;
    }
    const std::int64_t failures = count_attribute(suite, "failures").value_or(0);
    const std::int64_t errors = count_attribute(suite, "errors").value_or(0);
    const std::int64_t skipped = count_attribute(suite, "skipped").value_or(count_attribute(suite, "disabled").value_or(0));
    t.failed += failures;
    t.errors += errors;
    t.skipped += skipped;
    t.passed += std::max<std::int64_t>(0, *tests - failures - errors - skipped);
}

}  // namespace

std::optional<test_summary> parse_junit_summary(std::string_view xml)
{
    // No network, no external entities or DTDs (not requested), no messages on stderr.
    xml_doc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "junit.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
                xmlFreeDoc);
    if (!doc)
        return std::nullopt;
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root)
        return std::nullopt;
    test_summary t;
    t.source = "junit";
    if (named(root, "testsuite"))
        add_suite(root, t);
    else if (named(root, "testsuites"))
    {
        for (const xmlNode* c = root->children; c; c = c->next)
            if (named(c, "testsuite"))
                add_suite(c, t);
    }
    else
        return std::nullopt;
    return t;
}

}  // namespace ep::engine
