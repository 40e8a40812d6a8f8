// A multi-turn conversation that keeps its context: every turn sends the whole history, and
// the last turn switches provider mid-conversation (OpenAI, then Anthropic): the adapters
// convert the normalised messages to each wire format. Runs against the in-process emulator.
#include <ep/emulator/emulator.hpp>
#include <ep/providers/factory.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace pv = ep::providers;

int main()
{
    boost::asio::io_context ioc;
    ep::emulator::emulator_config ecfg;
    ecfg.zero_latency = true;
    ep::emulator::emulator emu(ioc.get_executor(), ecfg);
    emu.start();

    auto make = [&](const std::string& name, const std::string& base, const std::string& model) {
        pv::provider_config cfg;
        cfg.name = name;
        cfg.type = name;
        cfg.base_url = base;
        cfg.api_key = "emulated-key";
        pv::model_info mi;
        mi.id = model;
        cfg.models.push_back(mi);
        cfg.available = true;
        return pv::make_provider(ioc.get_executor(), cfg);
    };
    auto openai = make("openai", emu.openai_base_url(), "gpt-4.1");
    auto anthropic = make("anthropic", emu.anthropic_base_url(), "claude-sonnet-4-5");

    struct turn
    {
        pv::provider* who;
        std::string model;
        std::string text;
    };
    const std::vector<turn> turns = {
        {openai.get(), "gpt-4.1", "Design a key-value store API in three bullet points."},
        {openai.get(), "gpt-4.1", "Now add one bullet about persistence."},
        {anthropic.get(), "claude-sonnet-4-5", "Review the whole API you designed above."},  // the switch
    };

    int code = 0;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            pv::chat_request req;
            req.system = "You are an architect.";
            req.metadata["persona"] = "architect";
            for (const auto& t : turns)
            {
                req.model = t.model;
                req.messages.push_back(pv::message::user_text(t.text));
                auto r = co_await pv::complete(*t.who, req);
                if (!r.status.ok())
                {
                    std::cerr << t.who->config().name << " failed: " << r.status.diag.to_string() << "\n";
                    code = 1;
                    break;
                }
                std::cout << "--- " << t.who->config().name << " (" << req.messages.size()
                          << " messages of context) ---\n"
                          << r.response.text << "\n";
                req.messages.push_back(r.response.to_message());  // keep the context
            }
            emu.stop();
        },
        boost::asio::detached);
    ioc.run();

    // The last request carried the earlier turns, converted to the Anthropic format.
    const auto log = emu.requests();
    if (code == 0 && (log.empty() || log.back().protocol != "anthropic"))
        code = 1;
    return code;
}
