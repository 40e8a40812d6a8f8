// Generate code with one persona, streaming the answer to stdout, using the provider layer
// directly (no workflow, no CLI). Runs against the in-process EP emulator, so it needs no key.
#include <ep/emulator/emulator.hpp>
#include <ep/providers/factory.hpp>
#include <ep/providers/provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

int main()
{
    namespace pv = ep::providers;
    boost::asio::io_context ioc;

    ep::emulator::emulator_config ecfg;
    ecfg.time_to_first_token = std::chrono::milliseconds(20);
    ecfg.tokens_per_second = 400;
    ep::emulator::emulator emu(ioc.get_executor(), ecfg);
    emu.start();

    // With a real key: base_url = https://api.openai.com/v1 and api_key from EP_OPENAI_API_KEY.
    pv::provider_config cfg;
    cfg.name = "openai";
    cfg.type = "openai";
    cfg.base_url = emu.openai_base_url();
    cfg.api_key = "emulated-key";
    pv::model_info mi;
    mi.id = "gpt-4.1";
    cfg.models.push_back(mi);
    cfg.available = true;
    auto provider = pv::make_provider(ioc.get_executor(), cfg);

    pv::chat_request req;
    req.model = "gpt-4.1";
    req.system = "You are a senior C++ engineer. Answer with code only.";
    req.messages.push_back(pv::message::user_text("Write a function that reverses the words of a sentence."));
    req.metadata["persona"] = "code_writer";

    int code = 1;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            auto result = co_await pv::stream_call(*provider, req, [](const pv::stream_event& ev) {
                if (const auto* t = std::get_if<pv::text_delta_event>(&ev))
                    std::cout << t->text << std::flush;
            });
            std::cout << "\n";
            if (result.status.ok())
            {
                std::cerr << "[" << result.response.totals.input_tokens << " input tokens, "
                          << result.response.totals.output_tokens << " output tokens]\n";
                code = 0;
            }
            else
                std::cerr << "call failed: " << result.status.ec.message() << " " << result.status.diag.to_string()
                          << "\n";
            emu.stop();
        },
        boost::asio::detached);
    ioc.run();
    return code;
}
