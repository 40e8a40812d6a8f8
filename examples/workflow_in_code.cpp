// A multi-phase workflow built in code (no YAML, no CLI): design -> implement -> review, each
// phase routed by persona, run by the same runtime as ep-run (shared connection pool,
// failover, checkpoints in a SQLite store), streamed events printed as they come. Runs against
// the in-process emulator.
#include <ep/emulator/emulator.hpp>
#include <ep/engine/dag.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/run/events.hpp>
#include <ep/runtime/runtime.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <iostream>

namespace ee = ep::engine;
namespace pv = ep::providers;
namespace ps = ep::persistence;
namespace rt = ep::runtime;

namespace {

ee::phase_spec make_phase(std::string id, std::string persona, std::string prompt, std::vector<std::string> needs)
{
    ee::phase_spec p;
    p.id = std::move(id);
    p.persona.value = std::move(persona);
    p.prompt.value = prompt;
    std::vector<ee::template_error> errors;
    p.prompt_template = ee::parse_template(prompt, errors);
    for (auto& n : needs)
        p.needs.push_back({std::move(n), {}});
    return p;
}

// Prints phase progress and the streamed text of every phase.
class printing_sink final : public ee::event_sink
{
public:
    void on_event(const ee::run_event& ev) override
    {
        if (ev.type == "phase_started")
            std::cout << "\n== " << ev.field("phase") << " on " << ev.field("provider") << "/" << ev.field("model")
                      << " ==\n";
        else if (ev.type == "text_delta")
            std::cout << ev.field("text") << std::flush;
        else if (ev.type == "phase_failed")
            std::cout << "\n!! " << ev.field("phase") << ": " << ev.field("error") << "\n";
        else if (ev.type == "run_completed")
            std::cout << "\n\nrun " << ev.run_id << ": " << ev.field("status") << "\n";
    }
};

}  // namespace

int main()
{
    boost::asio::io_context ioc;
    ep::emulator::emulator_config ecfg;
    ecfg.zero_latency = true;
    ep::emulator::emulator emu(ioc.get_executor(), ecfg);
    emu.start();

    // The workflow.
    ee::workflow_spec spec;
    spec.name = "in-code";
    spec.phases.push_back(make_phase("design", "architect", "Design a rate limiter for an HTTP API.", {}));
    spec.phases.push_back(
        make_phase("implement", "code_writer", "Implement this design:\n{{ phases.design.output }}", {"design"}));
    spec.phases.push_back(make_phase("review", "reviewer",
                                     "Review the implementation:\n{{ phases.implement.output }}", {"implement"}));

    // Routing: two providers, one persona each.
    ee::policy pol;
    auto add_provider = [&](const std::string& name, const std::string& base, const std::string& model) {
        pv::provider_config cfg;
        cfg.name = name;
        cfg.type = name;
        cfg.base_url = base;
        cfg.api_key = "emulated-key";
        pv::model_info mi;
        mi.id = model;
        cfg.models.push_back(mi);
        cfg.available = true;
        pol.providers[name] = cfg;
    };
    add_provider("anthropic", emu.anthropic_base_url(), "claude-sonnet-4-5");
    add_provider("openai", emu.openai_base_url(), "gpt-4.1");
    auto add_persona = [&](const std::string& name, const std::string& provider) {
        ee::persona_spec p;
        p.name = name;
        p.system = "You are the team's " + name + ".";
        p.provider_preferences.push_back({provider, "", {}});
        pol.personas[name] = p;
    };
    add_persona("architect", "anthropic");
    add_persona("code_writer", "openai");
    add_persona("reviewer", "anthropic");

    ee::diagnostics diag;
    auto graph = ee::compile(spec, &pol, diag);
    if (!graph)
    {
        for (const auto& d : diag.items())
            std::cerr << d.str() << "\n";
        return 2;
    }

    const auto db = std::filesystem::temp_directory_path() / "ep-example-workflow.db";
    int code = 1;
    {
        rt::runtime_config cfg;
        cfg.store = db.string();
        rt::runtime runtime(ioc.get_executor(), cfg);
        auto workflow = std::make_shared<rt::prepared_workflow>();
        workflow->spec = std::move(spec);
        workflow->routing = std::move(pol);
        workflow->graph = std::move(*graph);
        workflow->definition = "# built in code (examples/workflow_in_code.cpp)\n";
        printing_sink sink;
        boost::asio::co_spawn(
            ioc,
            [&]() -> boost::asio::awaitable<void> {
                const ep::runtime::run_options options;
                auto out = co_await runtime.run(workflow, sink, nullptr, options);
                if (!out)
                    std::cerr << out.error().message << "\n";
                else if (out->status == ps::run_status::completed)
                    code = 0;
                emu.stop();
            },
            boost::asio::detached);
        ioc.run();
    }
    std::filesystem::remove(db);
    return code;
}
