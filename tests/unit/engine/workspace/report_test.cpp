// Quality reports: JUnit XML validated against the format's essentials (an XSD, with libxml2)
// and checked for consistent counts; the JSON report against schemas/report.schema.json.
#include "workspace_test_util.hpp"

#include <ep/engine/workspace/gate.hpp>
#include <ep/engine/workspace/report.hpp>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace ep::engine::ws_test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

persistence::timestamp at(std::int64_t ms) { return persistence::timestamp(std::chrono::milliseconds(ms)); }

persistence::phase_record phase(std::string id, persistence::phase_status status, int iteration = 1,
                                std::optional<int> item = {})
{
    persistence::phase_record p;
    p.run_id = "R1";
    p.phase_id = std::move(id);
    p.status = status;
    p.iteration = iteration;
    p.item = item;
    p.provider = "anthropic";
    p.model = "claude-x";
    p.input_tokens = 100;
    p.output_tokens = 50;
    p.cost_usd = 0.0125;
    p.started = at(1'767'225'600'000);
    p.finished = at(1'767'225'601'500);
    p.attempts = 1;
    return p;
}

report_input sample_run()
{
    report_input in;
    in.run.id = "R1";
    in.run.workflow = "implement-test-fix";
    in.run.mix = "A";
    in.run.status = persistence::run_status::failed;
    in.run.created = at(1'767'225'600'000);
    in.run.finished = at(1'767'225'700'000);
    in.phases.push_back(phase("implement", persistence::phase_status::completed));
    auto test = phase("test", persistence::phase_status::failed);
    test.provider.clear();
    test.model.clear();
    test.input_tokens = test.output_tokens = 0;
    test.cost_usd = 0;
    test.error = "the command failed: exit code 1\nsee the output";
    test.output_text = std::string("FAIL: test_evict <a & b> \"q\"\x01\x02 ") + "\xff" + "\nRan 3 tests\n";
    test.output_json = json{{"exit_code", 1}, {"stdout", ""}, {"stderr", ""}, {"duration_ms", 1500}};
    in.phases.push_back(test);
    in.phases.push_back(phase("implement", persistence::phase_status::completed, 2));
    in.phases.push_back(phase("build", persistence::phase_status::completed, 1, 3));
    in.phases.push_back(phase("notes", persistence::phase_status::skipped));
    in.phases.back().error = "when: .phases.ship.json.approved was false";
    in.phases.push_back(phase("ship", persistence::phase_status::waiting));
    in.phases.push_back(phase("review", persistence::phase_status::cancelled));
    in.command_phases = {"test"};
    persistence::attempt_record a;
    a.run_id = "R1";
    a.phase_id = "implement";
    a.iteration = 2;
    a.attempt = 2;
    a.provider = "openai";
    a.outcome = persistence::attempt_outcome::ok;
    a.started = at(1'767'225'600'100);
    persistence::attempt_record first = a;
    first.attempt = 1;
    first.provider = "anthropic";
    first.outcome = persistence::attempt_outcome::failed;
    first.error = "HTTP 529 overloaded";
    first.http_status = 529;
    in.attempts = {a, first};
    return in;
}

using xml_doc = std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)>;

xml_doc parse(const std::string& xml)
{
    return xml_doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "report.xml", nullptr, XML_PARSE_NONET),
                   xmlFreeDoc);
}

std::string xpath_string(xmlDoc* doc, const std::string& expr)
{
    std::unique_ptr<xmlXPathContext, void (*)(xmlXPathContextPtr)> ctx(xmlXPathNewContext(doc), xmlXPathFreeContext);
    std::unique_ptr<xmlXPathObject, void (*)(xmlXPathObjectPtr)> obj(
        xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(("string(" + expr + ")").c_str()), ctx.get()),
        xmlXPathFreeObject);
    return obj && obj->stringval ? reinterpret_cast<const char*>(obj->stringval) : "";
}

/// Validates against tests/unit/engine/workspace/data/junit-essentials.xsd; "" when valid.
std::string xsd_errors(xmlDoc* doc)
{
    const std::string xsd = std::string(EP_SOURCE_DIR) + "/tests/unit/engine/workspace/data/junit-essentials.xsd";
    std::unique_ptr<xmlSchemaParserCtxt, void (*)(xmlSchemaParserCtxtPtr)> pctx(
        xmlSchemaNewParserCtxt(xsd.c_str()), xmlSchemaFreeParserCtxt);
    std::unique_ptr<xmlSchema, void (*)(xmlSchemaPtr)> schema(xmlSchemaParse(pctx.get()), xmlSchemaFree);
    if (!schema)
        return "the XSD did not load";
    std::unique_ptr<xmlSchemaValidCtxt, void (*)(xmlSchemaValidCtxtPtr)> vctx(xmlSchemaNewValidCtxt(schema.get()),
                                                                              xmlSchemaFreeValidCtxt);
    std::string errors;
    xmlSchemaSetValidStructuredErrors(
        vctx.get(),
        [](void* out, xmlErrorPtr e) { *static_cast<std::string*>(out) += std::string(e->message ? e->message : ""); },
        &errors);
    const int rc = xmlSchemaValidateDoc(vctx.get(), doc);
    return rc == 0 ? "" : (errors.empty() ? "invalid" : errors);
}

TEST(junit_report, is_valid_against_the_junit_essentials_and_its_counts_match_its_cases)
{
    const auto in = sample_run();
    const std::string xml = junit_report(in);
    auto doc = parse(xml);
    ASSERT_TRUE(doc) << "not well-formed:\n" << xml;
    EXPECT_EQ(xsd_errors(doc.get()), "") << xml;

    // Counts, as a CI reader computes them, against the cases.
    const auto summary = parse_junit_summary(xml);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->failed, 1);
    EXPECT_EQ(summary->errors, 1);
    EXPECT_EQ(summary->skipped, 2);
    EXPECT_EQ(summary->passed, 3);
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase)"), "7");
    EXPECT_EQ(xpath_string(doc.get(), "/testsuites/testsuite/@tests"), "7");
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase/failure)"), xpath_string(doc.get(), "/testsuites/@failures"));
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase/error)"), xpath_string(doc.get(), "/testsuites/@errors"));
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase/skipped)"), xpath_string(doc.get(), "/testsuites/@skipped"));
    EXPECT_EQ(xpath_string(doc.get(), "/testsuites/testsuite/@time"), "10.500");
}

TEST(junit_report, each_case_carries_time_provider_model_tokens_cost_and_outcome)
{
    const auto in = sample_run();
    auto doc = parse(junit_report(in));
    ASSERT_TRUE(doc);
    const std::string impl = "//testcase[@name='implement']";
    EXPECT_EQ(xpath_string(doc.get(), impl + "/@classname"), "implement-test-fix");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/@time"), "1.500");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/properties/property[@name='provider']/@value"), "anthropic");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/properties/property[@name='model']/@value"), "claude-x");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/properties/property[@name='input_tokens']/@value"), "100");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/properties/property[@name='output_tokens']/@value"), "50");
    EXPECT_EQ(xpath_string(doc.get(), impl + "/properties/property[@name='cost_usd']/@value"), "0.012500");
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase[@name='implement #2'])"), "1");
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase[@name='build[3]'])"), "1");
    EXPECT_EQ(xpath_string(doc.get(), "//testcase[@name='build[3]']/properties/property[@name='item']/@value"), "3");

    const std::string test = "//testcase[@name='test']";
    EXPECT_EQ(xpath_string(doc.get(), test + "/properties/property[@name='exit_code']/@value"), "1");
    EXPECT_EQ(xpath_string(doc.get(), test + "/failure/@message"), "the command failed: exit code 1");
    EXPECT_EQ(xpath_string(doc.get(), test + "/failure"), "the command failed: exit code 1\nsee the output");
    const std::string out = xpath_string(doc.get(), test + "/system-out");
    EXPECT_NE(out.find("FAIL: test_evict <a & b> \"q\"\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\n"), std::string::npos)
        << out;
    EXPECT_EQ(xpath_string(doc.get(), "count(//testcase[@name='implement']/system-out)"), "0");
    EXPECT_EQ(xpath_string(doc.get(), "//testcase[@name='notes']/skipped/@message"),
              "when: .phases.ship.json.approved was false");
    EXPECT_EQ(xpath_string(doc.get(), "//testcase[@name='ship']/skipped/@message"), "waiting for approval");
    EXPECT_EQ(xpath_string(doc.get(), "//testcase[@name='review']/error/@type"), "cancelled");
    EXPECT_EQ(xpath_string(doc.get(), "/testsuites/testsuite/properties/property[@name='run_id']/@value"), "R1");
    EXPECT_EQ(xpath_string(doc.get(), "/testsuites/testsuite/properties/property[@name='cost_usd']/@value"),
              "0.075000");
}

// A model without a price: its instance's cost is "unknown", and so is the run's total (with
// the known part and the number of unpriced instances beside it), never a made-up $0.
report_input run_with_an_unpriced_phase()
{
    auto in = sample_run();
    in.phases[0].cost_usd = std::nullopt;
    return in;
}

TEST(junit_report, an_unknown_cost_is_unknown_not_zero)
{
    auto doc = parse(junit_report(run_with_an_unpriced_phase()));
    ASSERT_TRUE(doc);
    EXPECT_EQ(xpath_string(doc.get(), "//testcase[@name='implement']/properties/property[@name='cost_usd']/@value"),
              "unknown");
    const std::string suite = "/testsuites/testsuite/properties/property";
    EXPECT_EQ(xpath_string(doc.get(), suite + "[@name='cost_usd']/@value"), "unknown");
    EXPECT_EQ(xpath_string(doc.get(), suite + "[@name='cost_usd_known']/@value"), "0.062500");
    EXPECT_EQ(xpath_string(doc.get(), suite + "[@name='unpriced_phases']/@value"), "1");
    EXPECT_EQ(xsd_errors(doc.get()), "");
}

TEST(junit_report, an_empty_run_is_still_a_valid_document)
{
    report_input in;
    in.run.id = "R0";
    in.run.workflow = "empty";
    const std::string xml = junit_report(in);
    auto doc = parse(xml);
    ASSERT_TRUE(doc);
    EXPECT_EQ(xsd_errors(doc.get()), "") << xml;
    EXPECT_EQ(xpath_string(doc.get(), "/testsuites/@tests"), "0");
}

/// What schemas/report.schema.json says is wrong with `report` ("" when it is valid).
std::string report_schema_errors(const json& report)
{
    std::ifstream f(std::string(EP_SOURCE_DIR) + "/schemas/report.schema.json");
    const json schema_doc = json::parse(f);
    valijson::Schema schema;
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
    parser.populateSchema(schema_adapter, schema);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(report);
    const bool valid = validator.validate(schema, target, &results);
    std::string why;
    valijson::ValidationResults::Error e;
    while (results.popError(e))
        why += e.description + "\n";
    return valid ? std::string() : why.empty() ? std::string("invalid") : why;
}

TEST(json_report, matches_its_schema_and_totals_add_up)
{
    const json report = json_report(sample_run());
    EXPECT_EQ(report_schema_errors(report), "") << report.dump(2);

    EXPECT_EQ(report["totals"]["phases"], 7);
    EXPECT_EQ(report["totals"]["completed"], 3);
    EXPECT_EQ(report["totals"]["failed"], 1);
    EXPECT_EQ(report["totals"]["input_tokens"], 600);
    EXPECT_NEAR(report["totals"]["cost_usd"].get<double>(), 0.075, 1e-9);
    EXPECT_NEAR(report["totals"]["cost_usd_known"].get<double>(), 0.075, 1e-9);
    EXPECT_EQ(report["totals"]["unpriced_phases"], 0);
    EXPECT_EQ(report["phases"][1]["exit_code"], 1);
    EXPECT_FALSE(report["phases"][0].contains("exit_code"));
    const auto& attempts = report["phases"][2]["attempts"];
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0]["attempt"], 1);
    EXPECT_EQ(attempts[0]["http_status"], 529);
    EXPECT_EQ(attempts[1]["provider"], "openai");
    EXPECT_EQ(report["run"]["created"], "2026-01-01T00:00:00.000Z");
}

TEST(json_report, an_unknown_cost_is_null_and_the_total_is_unknown)
{
    const json report = json_report(run_with_an_unpriced_phase());
    EXPECT_EQ(report_schema_errors(report), "") << report.dump(2);
    EXPECT_TRUE(report["phases"][0]["cost_usd"].is_null());
    EXPECT_TRUE(report["totals"]["cost_usd"].is_null());
    EXPECT_NEAR(report["totals"]["cost_usd_known"].get<double>(), 0.0625, 1e-9);
    EXPECT_EQ(report["totals"]["unpriced_phases"], 1);
}

TEST(report_option, parses_junit_and_json_and_refuses_anything_else)
{
    auto j = parse_report_option("junit=out/report.xml");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->format, report_format::junit);
    EXPECT_EQ(j->path, "out/report.xml");
    auto s = parse_report_option("json=r.json");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->format, report_format::json);
    for (const char* bad : {"junit", "junit=", "xml=r.xml", "=r.xml"})
    {
        auto r = parse_report_option(bad);
        EXPECT_FALSE(r) << bad;
        if (!r)
        {
            EXPECT_NE(r.error().message.find("--report"), std::string::npos);
        }
    }
}

TEST(report_file, is_written_atomically_and_a_bad_path_is_a_clear_error)
{
    temp_dir tmp;
    const auto path = tmp.path() / "report.xml";
    write_text(path, "old");
    ASSERT_TRUE(write_report_file(path, render_report(sample_run(), report_format::junit)));
    EXPECT_EQ(read_text(path).rfind("<?xml", 0), 0u);
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1) << "a temp file is left";
    auto bad = write_report_file(tmp.path() / "missing-dir" / "r.json", "{}");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, make_error_code(workspace_errc::io_error));
    EXPECT_NE(bad.error().message.find("missing-dir"), std::string::npos);
}

}  // namespace
}  // namespace ep::engine::ws_test
