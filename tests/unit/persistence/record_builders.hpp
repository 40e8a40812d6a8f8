#pragma once
// Records for the persistence tests: a run, a completed phase and a few events, filled the way
// the executor fills them. Shared by the SQLite tests and the backend conformance suite.

#include <ep/persistence/records.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace ep::persistence::test {

inline run_record make_run(std::string workflow = "sdlc")
{
    run_record r;
    r.workflow = std::move(workflow);
    r.definition = "name: sdlc\nphases: []\n";
    r.inputs = {{"task", "write a parser"}};
    r.mix = "A";
    return r;
}

inline phase_record make_phase(const std::string& run_id, const std::string& phase_id)
{
    using namespace std::chrono_literals;
    phase_record p;
    p.run_id = run_id;
    p.phase_id = phase_id;
    p.status = phase_status::completed;
    p.output_text = "output of " + phase_id;
    p.output_json = nlohmann::json{{"ok", true}, {"phase", phase_id}};
    p.provider = "openai";
    p.model = "gpt-4o-mini";
    p.input_tokens = 100;
    p.output_tokens = 50;
    p.cost_usd = 0.25;
    p.started = timestamp(1000ms);
    p.finished = timestamp(2000ms);
    p.attempts = 1;
    return p;
}

inline std::vector<event_record> make_events(const std::string& phase_id, int n)
{
    std::vector<event_record> out;
    for (int i = 0; i < n; ++i)
    {
        event_record e;
        e.type = "text_delta";
        e.payload = {{"phase", phase_id}, {"text", "chunk " + std::to_string(i)}};
        out.push_back(std::move(e));
    }
    return out;
}

inline attempt_record make_attempt(const std::string& run_id, const std::string& phase_id, int number,
                                   attempt_outcome outcome = attempt_outcome::ok)
{
    attempt_record a;
    a.run_id = run_id;
    a.phase_id = phase_id;
    a.attempt = number;
    a.provider = "openai";
    a.model = "gpt";
    a.outcome = outcome;
    return a;
}

}  // namespace ep::persistence::test
