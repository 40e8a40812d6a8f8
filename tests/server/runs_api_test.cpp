// The runs API over real HTTP against the in-process server and the emulator: submit (by name,
// by YAML, every validation problem with its line:col), list with filters and pages, one run,
// outputs, cancel and resume, workflows, 404 vs 405, and the OpenAPI document matching the
// route table.
#include "server_fixture.hpp"

#include <ep/emulator/faults.hpp>

#include <fstream>
#include <set>

namespace ep::server::test {
namespace {

server_harness::options zero_latency()
{
    server_harness::options o;
    o.emulator.zero_latency = true;
    return o;
}

TEST(runs_api, a_named_workflow_runs_to_completion_and_is_listed_shown_and_output)
{
    server_harness h(zero_latency());
    ASSERT_FALSE(h.start_error_message());
    auto submitted = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "an LRU cache"}}}});
    ASSERT_EQ(submitted.status, 201u) << submitted.body;
    const auto id = submitted.body_json()["run_id"].get<std::string>();
    EXPECT_EQ(submitted.header("location"), "/v1/runs/" + id);
    auto run = h.wait_for_status(id, "completed");
    EXPECT_EQ(run["workflow"], "design-implement-review");
    // Three phases; implement and review loop until the reviewer approves (one row per pass).
    // Each row names its instance: the loop's passes are iterations 1, 2, … with no gap or repeat.
    std::set<std::string> phase_ids;
    std::set<std::pair<std::string, int>> instances;
    for (const auto& p : run["phases"])
    {
        phase_ids.insert(p["phase"].get<std::string>());
        EXPECT_TRUE(p["item"].is_null());
        EXPECT_TRUE(instances.emplace(p["phase"].get<std::string>(), p["iteration"].get<int>()).second);
    }
    EXPECT_EQ(phase_ids, (std::set<std::string>{"design", "implement", "review"}));
    EXPECT_TRUE(instances.count({"design", 1}));
    for (const std::string looped : {"implement", "review"})
        for (int i = 1; instances.count({looped, i + 1}); ++i)
            EXPECT_TRUE(instances.count({looped, i})) << looped << " pass " << i;
    for (const auto& p : run["phases"])
    {
        EXPECT_EQ(p["status"], "completed");
        EXPECT_GT(p["usage"]["output_tokens"].get<int>(), 0);
        EXPECT_FALSE(p["provider"].get<std::string>().empty());
    }
    EXPECT_GE(run["attempts"].size(), 3u);
    EXPECT_EQ(run["graph"].size(), 3u);
    EXPECT_EQ(run["inputs"]["task"], "an LRU cache");
    EXPECT_GT(run["usage"]["input_tokens"].get<int>(), 0);

    auto out = get(h.port(), "/v1/runs/" + id + "/outputs/design");
    EXPECT_EQ(out.status, 200u);
    EXPECT_EQ(out.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_NE(out.body.find("[emulated"), std::string::npos);
    EXPECT_EQ(get(h.port(), "/v1/runs/" + id + "/outputs/nope").status, 404u);

    auto list = get(h.port(), "/v1/runs?status=completed&workflow=design-implement-review").body_json();
    ASSERT_EQ(list["runs"].size(), 1u);
    EXPECT_EQ(list["runs"][0]["run_id"], id);
    EXPECT_TRUE(list["next_cursor"].is_null());
    EXPECT_EQ(get(h.port(), "/v1/runs?status=failed").body_json()["runs"].size(), 0u);
    EXPECT_EQ(get(h.port(), "/v1/runs?status=bogus").status, 400u);
    EXPECT_EQ(get(h.port(), "/v1/runs?limit=0").status, 400u);
    EXPECT_EQ(get(h.port(), "/v1/runs/20990101T000000Z-00000000").status, 404u);
}

TEST(runs_api, pages_follow_the_cursor_without_overlap)
{
    server_harness h(zero_latency());
    const std::string yaml = "name: tiny\nphases:\n  one: {persona: architect, prompt: hi}\n";
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
    {
        auto r = post(h.port(), "/v1/runs", {{"yaml", yaml}});
        ASSERT_EQ(r.status, 201u) << r.body;
        ids.push_back(r.body_json()["run_id"]);
        h.wait_for_status(ids.back(), "completed");
    }
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    do
    {
        auto page = get(h.port(), "/v1/runs?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)).body_json();
        for (const auto& r : page["runs"])
            EXPECT_TRUE(seen.insert(r["run_id"].get<std::string>()).second) << "listed twice";
        cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
        ++pages;
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, std::set<std::string>(ids.begin(), ids.end()));
}

TEST(runs_api, an_invalid_workflow_is_422_with_every_problem_and_its_line_and_column)
{
    server_harness h(zero_latency());
    const std::string yaml = "name: bad\nphases:\n  a:\n    persona: architekt\n    prompt: hi\n  b:\n    persona: reviewer\n"
                             "    needs: [zzz]\n    prompt: x\n";
    auto r = post(h.port(), "/v1/runs", {{"yaml", yaml}});
    ASSERT_EQ(r.status, 422u) << r.body;
    auto problems = r.body_json()["error"]["problems"];
    ASSERT_GE(problems.size(), 2u) << r.body;
    bool persona = false, needs = false;
    for (const auto& p : problems)
    {
        EXPECT_EQ(p["file"], "workflow.yaml");
        EXPECT_GT(p["line"].get<int>(), 0);
        EXPECT_GT(p["column"].get<int>(), 0);
        const auto m = p["message"].get<std::string>();
        persona = persona || (m.find("architekt") != std::string::npos && p["line"] == 4);
        needs = needs || (m.find("zzz") != std::string::npos && p["line"] == 8);
    }
    EXPECT_TRUE(persona && needs) << r.body;
    EXPECT_EQ(r.body_json()["error"]["type"], "validation_error");

    auto missing = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}});
    ASSERT_EQ(missing.status, 422u);
    EXPECT_NE(missing.body.find("task"), std::string::npos) << missing.body;
    auto typed = post(h.port(), "/v1/runs", {{"yaml", "name: t\ninputs: {n: {type: number}}\nphases:\n  a: {persona: architect, prompt: '{{ inputs.n }}'}\n"},
                                             {"inputs", {{"n", "seven"}}}});
    EXPECT_EQ(typed.status, 422u) << typed.body;
    EXPECT_EQ(get(h.port(), "/v1/runs").body_json()["runs"].size(), 0u) << "nothing was stored";
}

TEST(runs_api, bad_bodies_are_400_and_unknown_workflows_404)
{
    server_harness h(zero_latency());
    auto raw = [&](const std::string& body) { return http_call(h.port(), http::verb::post, "/v1/runs", body).status; };
    EXPECT_EQ(raw("{not json"), 400u);
    EXPECT_EQ(raw("[1,2]"), 400u);
    EXPECT_EQ(raw(""), 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", 7}}).status, 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "x"}, {"yaml", "y"}}).status, 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "sdlc"}, {"color", "red"}}).status, 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "sdlc"}, {"config", "../../etc/passwd"}}).status, 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "sdlc"}, {"inputs", {{"task", {1, 2}}}}}).status, 422u);
    // Inputs reach the binder as NAME=VALUE: a name with '=' would bind another input (task = "x=y").
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "sdlc"}, {"inputs", {{"task=x", "y"}}}}).status, 400u);
    auto unknown = post(h.port(), "/v1/runs", {{"workflow", "no-such-workflow"}});
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(unknown.body_json()["error"]["type"], "not_found_error");
    // A submitted workflow may not point providers (and the server's keys) elsewhere.
    auto inline_provider = post(
        h.port(), "/v1/runs",
        {{"yaml", "name: x\nproviders:\n  openai: {base_url: 'http://127.0.0.1:9/v1'}\nphases:\n  a: {persona: architect, prompt: hi}\n"}});
    EXPECT_EQ(inline_provider.status, 422u) << inline_provider.body;
    EXPECT_NE(inline_provider.body.find("allow-inline-providers"), std::string::npos);
}

TEST(runs_api, unknown_paths_are_404_and_wrong_verbs_405_with_allow)
{
    server_harness h(zero_latency());
    auto nf = get(h.port(), "/v1/nothing");
    EXPECT_EQ(nf.status, 404u);
    EXPECT_EQ(nf.body_json()["error"]["type"], "not_found_error");
    EXPECT_EQ(get(h.port(), "/v1/runs/").status, 404u);
    EXPECT_EQ(get(h.port(), "/v1//runs").status, 404u);
    auto na = http_call(h.port(), http::verb::delete_, "/v1/runs");
    EXPECT_EQ(na.status, 405u);
    EXPECT_EQ(na.header("allow"), "POST, GET");
    EXPECT_EQ(http_call(h.port(), http::verb::get, "/v1/runs/x/cancel").status, 405u);
    EXPECT_EQ(get(h.port(), "/healthz").status, 200u);
    EXPECT_EQ(get(h.port(), "/readyz").body_json()["store"], "ok");
}

TEST(runs_api, workflows_lists_the_shipped_ones_and_a_custom_directory_first)
{
    auto dir = fresh_dir("ep-serve-wf-");
    std::ofstream(dir / "mine.yaml") << "name: mine\ndescription: my own\ninputs: {topic: {type: string, default: x}}\n"
                                        "phases:\n  a: {persona: architect, prompt: '{{ inputs.topic }}'}\n";
    std::ofstream(dir / "broken.yaml") << "name: [\n";
    auto o = zero_latency();
    o.server.workflow_dirs = {dir};
    server_harness h(o);
    auto list = get(h.port(), "/v1/workflows").body_json()["workflows"];
    std::map<std::string, json> by_name;
    for (const auto& w : list)
        by_name[w["name"]] = w;
    ASSERT_TRUE(by_name.count("mine") && by_name.count("sdlc") && by_name.count("design-implement-review")) << list.dump();
    EXPECT_FALSE(by_name.count("personas"));
    EXPECT_EQ(by_name["mine"]["source"], "custom");
    EXPECT_EQ(by_name["mine"]["inputs"][0]["name"], "topic");
    EXPECT_EQ(by_name["sdlc"]["source"], "shipped");
    EXPECT_GE(by_name["sdlc"]["phases"].size(), 5u);
    EXPECT_TRUE(by_name["broken"].contains("error"));
    EXPECT_EQ(list[0]["name"], "broken") << "custom directories come first";
    auto run = post(h.port(), "/v1/runs", {{"workflow", "mine"}});
    EXPECT_EQ(run.status, 201u) << run.body;
    std::filesystem::remove_all(dir);
}

TEST(runs_api, cancel_stops_a_running_run_and_resume_finishes_it)
{
    server_harness h(zero_latency());
    // The first design call answers after 5 s: the run is cancelled while it waits.
    h.emu().add_fault(emulator::fault_rule{*emulator::parse_fault_spec("slow:5000,times=1"), {}, {}, "architect"});
    auto submitted = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}});
    ASSERT_EQ(submitted.status, 201u);
    const auto id = submitted.body_json()["run_id"].get<std::string>();
    std::this_thread::sleep_for(200ms);
    auto c = post(h.port(), "/v1/runs/" + id + "/cancel", json::object());
    ASSERT_EQ(c.status, 202u) << c.body;
    auto run = h.wait_for_status(id, "interrupted");
    EXPECT_EQ(run["phases"][0]["status"], "cancelled");
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/cancel", json::object()).status, 409u);
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/resume", {{"config", "Z"}}).status, 400u);
    auto r = post(h.port(), "/v1/runs/" + id + "/resume", {{"config", "D"}});
    ASSERT_EQ(r.status, 202u) << r.body;
    run = h.wait_for_status(id, "completed", 60s);
    EXPECT_EQ(run["mix"], "D");
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/resume", json::object()).status, 409u) << "already completed";
    EXPECT_EQ(post(h.port(), "/v1/runs/20990101T000000Z-00000000/resume", json::object()).status, 404u);
}

// A draft, a gate, and a phase after the gate: the run waits at the gate.
const std::string gated_yaml = "name: gated\n"
                               "phases:\n"
                               "  draft: {persona: architect, prompt: write it}\n"
                               "  review:\n"
                               "    needs: [draft]\n"
                               "    approval: {prompt: ship it}\n"
                               "  publish: {persona: architect, needs: [review], prompt: publish it}\n";

std::string submit_gated(server_harness& h)
{
    auto submitted = post(h.port(), "/v1/runs", {{"yaml", gated_yaml}});
    EXPECT_EQ(submitted.status, 201u) << submitted.body;
    const auto id = submitted.body_json().value("run_id", "");
    h.wait_for_status(id, "waiting");
    return id;
}

json phase_named(const json& run, const std::string& name)
{
    for (const auto& p : run["phases"])
        if (p["phase"] == name)
            return p;
    return json();
}

TEST(runs_api, approve_records_the_callers_decision_and_continues_the_run)
{
    server_harness h(zero_latency());
    const auto id = submit_gated(h);
    EXPECT_EQ(phase_named(get(h.port(), "/v1/runs/" + id).body_json(), "review")["status"], "waiting");
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/cancel", json::object()).status, 409u) << "nothing runs";
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/approve", json::object()).status, 400u) << "no phase";
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "review"}, {"comment", 3}}).status, 400u);
    auto not_gate = post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "draft"}});
    EXPECT_EQ(not_gate.status, 409u) << not_gate.body;
    EXPECT_NE(not_gate.body.find("not an approval gate"), std::string::npos) << not_gate.body;
    EXPECT_EQ(post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "nope"}}).status, 422u);
    EXPECT_EQ(post(h.port(), "/v1/runs/20990101T000000Z-00000000/approve", {{"phase", "review"}}).status, 404u);

    auto ok = post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "review"}, {"comment", "looks good"}});
    ASSERT_EQ(ok.status, 202u) << ok.body;
    EXPECT_EQ(ok.body_json()["run_id"], id);
    auto run = h.wait_for_status(id, "completed");
    EXPECT_EQ(phase_named(run, "publish")["status"], "completed");
    auto decision = get(h.port(), "/v1/runs/" + id + "/outputs/review").body_json();
    EXPECT_EQ(decision["approved"], true);
    EXPECT_EQ(decision["comment"], "looks good");
    EXPECT_EQ(decision["by"], "anonymous@127.0.0.1") << "no tokens: the caller is its address";
    auto again = post(h.port(), "/v1/runs/" + id + "/approve", {{"phase", "review"}});
    EXPECT_EQ(again.status, 409u) << "decided already: " << again.body;
}

TEST(runs_api, reject_records_a_negative_decision)
{
    server_harness h(zero_latency());
    const auto id = submit_gated(h);
    auto r = post(h.port(), "/v1/runs/" + id + "/reject", {{"phase", "review"}, {"comment", "not yet"}});
    ASSERT_EQ(r.status, 202u) << r.body;
    h.wait_for_status(id, "completed");
    auto decision = get(h.port(), "/v1/runs/" + id + "/outputs/review").body_json();
    EXPECT_EQ(decision["approved"], false);
    EXPECT_EQ(decision["comment"], "not yet");
}

TEST(runs_api, fork_starts_a_new_run_from_a_phase_with_its_parent_named)
{
    server_harness h(zero_latency());
    auto submitted = post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"inputs", {{"task", "a"}}}});
    ASSERT_EQ(submitted.status, 201u) << submitted.body;
    const auto parent = submitted.body_json()["run_id"].get<std::string>();
    h.wait_for_status(parent, "completed");
    EXPECT_EQ(post(h.port(), "/v1/runs/" + parent + "/fork", json::object()).status, 400u) << "no from";
    EXPECT_EQ(post(h.port(), "/v1/runs/" + parent + "/fork", {{"from", "nope"}}).status, 422u);
    EXPECT_EQ(post(h.port(), "/v1/runs/" + parent + "/fork", {{"from", "implement"}, {"inputs", {{"bogus", "x"}}}}).status,
              422u);
    EXPECT_EQ(post(h.port(), "/v1/runs/" + parent + "/fork", {{"from", "implement"}, {"inputs", {{"task=b", "x"}}}}).status,
              400u);
    EXPECT_EQ(post(h.port(), "/v1/runs/20990101T000000Z-00000000/fork", {{"from", "implement"}}).status, 404u);

    const auto architect_calls = h.emu().stats().by_persona["architect"];
    ASSERT_GT(architect_calls, 0u);
    auto f = post(h.port(), "/v1/runs/" + parent + "/fork",
                  {{"from", "implement"}, {"inputs", {{"task", "b"}}}, {"config", "D"}});
    ASSERT_EQ(f.status, 201u) << f.body;
    const auto child = f.body_json()["run_id"].get<std::string>();
    EXPECT_NE(child, parent);
    EXPECT_EQ(f.header("location"), "/v1/runs/" + child);
    auto run = h.wait_for_status(child, "completed");
    EXPECT_EQ(run["parent_run_id"], parent);
    EXPECT_EQ(run["parent_phase"], "implement");
    EXPECT_EQ(run["inputs"]["task"], "b");
    EXPECT_EQ(run["mix"], "D");
    // design (the architect's phase) was copied, not sent again.
    EXPECT_EQ(h.emu().stats().by_persona["architect"], architect_calls);
    EXPECT_EQ(get(h.port(), "/v1/runs/" + child + "/outputs/design").body,
              get(h.port(), "/v1/runs/" + parent + "/outputs/design").body);
}

TEST(runs_api, max_cost_usd_is_validated_and_stops_a_run_over_it)
{
    server_harness h(zero_latency());
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"max_cost_usd", "x"}}).status, 400u);
    EXPECT_EQ(post(h.port(), "/v1/runs", {{"workflow", "design-implement-review"}, {"max_cost_usd", -1}}).status, 400u);
    auto r = post(h.port(), "/v1/runs",
                  {{"workflow", "design-implement-review"}, {"inputs", {{"task", "x"}}}, {"max_cost_usd", 0}});
    ASSERT_EQ(r.status, 201u) << r.body;
    auto run = h.wait_for_status(r.body_json()["run_id"], "failed");
    EXPECT_NE(run.value("error", "").find("budget"), std::string::npos) << run.dump();
}

// A model outside the catalogue has no price: its phases' cost is null, and so is the run's,
// with the known part and the count of unpriced phases beside it (never a made-up 0).
TEST(runs_api, a_model_without_a_price_has_a_null_cost)
{
    server_harness h(zero_latency());
    const std::string yaml = "name: local\npersonas:\n  local_writer: {provider_preferences: [openai/llama-local-9]}\n"
                             "phases:\n  one: {persona: local_writer, prompt: hi}\n";
    auto r = post(h.port(), "/v1/runs", {{"yaml", yaml}});
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = r.body_json()["run_id"].get<std::string>();
    auto run = h.wait_for_status(id, "completed");
    ASSERT_EQ(run["phases"].size(), 1u) << run.dump();
    EXPECT_TRUE(run["phases"][0]["cost_usd"].is_null()) << run.dump();
    EXPECT_TRUE(run["cost_usd"].is_null()) << run.dump();
    EXPECT_EQ(run["cost_usd_known"], 0.0);
    EXPECT_EQ(run["unpriced_phases"], 1);
    auto list = get(h.port(), "/v1/runs").body_json();
    ASSERT_EQ(list["runs"].size(), 1u);
    EXPECT_TRUE(list["runs"][0]["cost_usd"].is_null());
    EXPECT_EQ(list["runs"][0]["unpriced_phases"], 1);
}

TEST(runs_api, every_route_is_in_the_openapi_document_and_every_documented_operation_is_routed)
{
    server_harness h(zero_latency());
    auto doc = get(h.port(), "/v1/openapi.json").body_json();
    ASSERT_EQ(doc["openapi"], "3.1.0");
    std::set<std::pair<std::string, std::string>> documented, routed;
    for (auto it = doc["paths"].begin(); it != doc["paths"].end(); ++it)
        for (auto op = it.value().begin(); op != it.value().end(); ++op)
            documented.emplace(lower(op.key()), it.key());
    for (const auto& [verb, pattern] : h.srv().routes())
        routed.emplace(lower(verb), pattern);
    EXPECT_EQ(documented, routed);
    // The file in schemas/ is what is served.
    std::ifstream f(std::filesystem::path(EP_SOURCE_DIR) / "schemas" / "openapi.json");
    EXPECT_EQ(json::parse(f), doc);
}

}  // namespace
}  // namespace ep::server::test
