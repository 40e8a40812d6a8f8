// The JUnit XML report, written with libxml2's xmlTextWriter (it escapes; we only make the text
// valid XML 1.0 first).
#include "workspace/report_common.hpp"
#include "workspace/utf8.hpp"

#include <libxml/xmlwriter.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace ep::engine {
namespace {

constexpr std::size_t system_out_cap = 64 * 1024;

/// Valid UTF-8 with the characters XML 1.0 forbids (C0 controls but tab, LF, CR; U+FFFE/F)
/// replaced by U+FFFD.
std::string xml_text(std::string_view s)
{
    const std::string utf8 = detail::sanitize_utf8(s);
    std::string out;
    out.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size(); ++i)
    {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            out += "\xef\xbf\xbd";
        else if (c == 0xef && i + 2 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) == 0xbf &&
                 (static_cast<unsigned char>(utf8[i + 2]) == 0xbe || static_cast<unsigned char>(utf8[i + 2]) == 0xbf))
        {
            out += "\xef\xbf\xbd";
            i += 2;
        }
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string seconds(std::chrono::milliseconds d)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

std::string money(double usd)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", usd);
    return buf;
}

/// A thin RAII wrapper over xmlTextWriter writing to memory; every call checks its result.
class xml_writer
{
public:
    xml_writer() : buffer_(xmlBufferCreate(), xmlBufferFree)
    {
        writer_ = xmlNewTextWriterMemory(buffer_.get(), 0);
        if (!writer_)
            throw std::runtime_error("libxml2: cannot create a writer");
        xmlTextWriterSetIndent(writer_, 1);
        xmlTextWriterSetIndentString(writer_, reinterpret_cast<const xmlChar*>("  "));
        check(xmlTextWriterStartDocument(writer_, nullptr, "UTF-8", nullptr));
    }
    ~xml_writer()
    {
        if (writer_)
            xmlFreeTextWriter(writer_);
    }
    xml_writer(const xml_writer&) = delete;
    xml_writer& operator=(const xml_writer&) = delete;

    void start(const char* element) { check(xmlTextWriterStartElement(writer_, bytes(element))); }
    void end() { check(xmlTextWriterEndElement(writer_)); }
    void attribute(const char* name, const std::string& value)
    {
        check(xmlTextWriterWriteAttribute(writer_, bytes(name), bytes(xml_text(value).c_str())));
    }
    void text(const std::string& value) { check(xmlTextWriterWriteString(writer_, bytes(xml_text(value).c_str()))); }
    void property(const std::string& name, const std::string& value)
    {
        start("property");
        attribute("name", name);
        attribute("value", value);
        end();
    }

    std::string finish()
    {
        check(xmlTextWriterEndDocument(writer_));
        xmlFreeTextWriter(writer_);  // flushes into the buffer
        writer_ = nullptr;
        return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_.get())),
                           static_cast<std::size_t>(xmlBufferLength(buffer_.get())));
    }

private:
    static const xmlChar* bytes(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
    static void check(int rc)
    {
        if (rc < 0)
            throw std::runtime_error("libxml2: writing the JUnit report failed");
    }

    std::unique_ptr<xmlBuffer, void (*)(xmlBufferPtr)> buffer_;
    xmlTextWriterPtr writer_ = nullptr;
};

struct counts
{
    int tests = 0, failures = 0, errors = 0, skipped = 0;
    std::chrono::milliseconds time{0};
};

counts count(const report_input& in)
{
    counts c;
    for (const auto& p : in.phases)
    {
        ++c.tests;
        c.time += detail::instance_duration(p);
        switch (p.status)
        {
        case persistence::phase_status::failed: ++c.failures; break;
        case persistence::phase_status::cancelled:
        case persistence::phase_status::running: ++c.errors; break;
        case persistence::phase_status::skipped:
        case persistence::phase_status::waiting: ++c.skipped; break;
        case persistence::phase_status::completed: break;
        }
    }
    return c;
}

void count_attributes(xml_writer& w, const counts& c)
{
    w.attribute("tests", std::to_string(c.tests));
    w.attribute("failures", std::to_string(c.failures));
    w.attribute("errors", std::to_string(c.errors));
    w.attribute("skipped", std::to_string(c.skipped));
    w.attribute("time", seconds(c.time));
}

std::string first_line(const std::string& s)
{
    const auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

void write_outcome(xml_writer& w, const persistence::phase_record& p, const std::optional<int>& exit_code)
{
    std::string why = p.error;
    if (why.empty() && exit_code && *exit_code != 0)
        why = "exit code " + std::to_string(*exit_code);
    switch (p.status)
    {
    case persistence::phase_status::failed:
        w.start("failure");
        w.attribute("message", first_line(why.empty() ? "the phase failed" : why));
        w.attribute("type", "failed");
        w.text(why);
        w.end();
        break;
    case persistence::phase_status::cancelled:
    case persistence::phase_status::running:
        w.start("error");
        w.attribute("message", first_line(p.status == persistence::phase_status::running
                                              ? "the phase did not finish (the run stopped while it ran)"
                                              : (why.empty() ? "cancelled" : why)));
        w.attribute("type", std::string(persistence::to_string(p.status)));
        w.end();
        break;
    case persistence::phase_status::skipped:
    case persistence::phase_status::waiting:
        w.start("skipped");
        w.attribute("message", first_line(p.status == persistence::phase_status::waiting ? "waiting for approval"
                                                                                          : why));
        w.end();
        break;
    case persistence::phase_status::completed: break;
    }
}

void write_case(xml_writer& w, const report_input& in, const persistence::phase_record& p)
{
    const auto exit_code = detail::command_exit_code(in, p);
    w.start("testcase");
    w.attribute("name", instance_name(p.phase_id, p.iteration, p.item));
    w.attribute("classname", in.run.workflow);
    w.attribute("time", seconds(detail::instance_duration(p)));
    w.start("properties");
    w.property("provider", p.provider);
    w.property("model", p.model);
    w.property("input_tokens", std::to_string(p.input_tokens));
    w.property("output_tokens", std::to_string(p.output_tokens));
    w.property("cost_usd", p.cost_usd ? money(*p.cost_usd) : std::string("unknown"));
    w.property("attempts", std::to_string(p.attempts));
    w.property("iteration", std::to_string(p.iteration));
    if (p.item)
        w.property("item", std::to_string(*p.item));
    w.property("status", std::string(persistence::to_string(p.status)));
    if (exit_code)
        w.property("exit_code", std::to_string(*exit_code));
    w.end();
    write_outcome(w, p, exit_code);
    if (in.command_phases.count(p.phase_id) && !p.output_text.empty())
    {
        std::string out = p.output_text;
        if (out.size() > system_out_cap)
            out = "[… " + std::to_string(out.size() - system_out_cap) + " bytes dropped …]\n" +
                  out.substr(out.size() - system_out_cap);
        w.start("system-out");
        w.text(out);
        w.end();
    }
    w.end();
}

}  // namespace

std::string junit_report(const report_input& in)
{
    const counts c = count(in);
    const std::string timestamp = detail::iso8601(in.run.created);
    xml_writer w;
    w.start("testsuites");
    w.attribute("name", "ep");
    count_attributes(w, c);
    w.start("testsuite");
    w.attribute("name", in.run.workflow);
    w.attribute("id", "0");
    count_attributes(w, c);
    w.attribute("timestamp", timestamp.substr(0, 19));  // the XSD's xs:dateTime without zone
    w.start("properties");
    w.property("run_id", in.run.id);
    w.property("mix", in.run.mix);
    w.property("status", std::string(persistence::to_string(in.run.status)));
    std::int64_t input = 0, output = 0;
    cost_total cost;
    for (const auto& p : in.phases)
    {
        input += p.input_tokens;
        output += p.output_tokens;
        cost.add(p.cost_usd);
    }
    w.property("input_tokens", std::to_string(input));
    w.property("output_tokens", std::to_string(output));
    w.property("cost_usd", cost.exact() ? money(cost.known_usd) : std::string("unknown"));
    if (!cost.exact())
    {
        w.property("cost_usd_known", money(cost.known_usd));
        w.property("unpriced_phases", std::to_string(cost.unknown));
    }
    if (!in.run.parent_run_id.empty())
        w.property("parent_run_id", in.run.parent_run_id);
    w.end();
    for (const auto& p : in.phases)
        write_case(w, in, p);
    w.end();
    w.end();
    return w.finish();
}

}  // namespace ep::engine
