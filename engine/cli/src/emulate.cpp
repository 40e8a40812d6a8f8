#include <ep/cli/commands.hpp>
#include <ep/cli/emulate.hpp>

#include <cstdlib>
#include <ostream>

namespace ep::cli {

ep::environment emulated_environment(const ep::environment& env, const std::string& base_url)
{
    ep::environment out = env;
    out.set("EP_OPENAI_BASE_URL", base_url + "/v1");
    out.set("EP_ANTHROPIC_BASE_URL", base_url);
    out.set("EP_GEMINI_BASE_URL", base_url + "/v1beta");
    // Dummy credentials: the emulator accepts any; real keys must never be sent to it.
    out.set("EP_OPENAI_API_KEY", "emulated-key");
    out.set("EP_ANTHROPIC_API_KEY", "emulated-key");
    out.set("EP_GEMINI_API_KEY", "emulated-key");
    return out;
}

namespace {

double env_number(const ep::environment& env, const char* name, double fallback)
{
    if (auto v = env.get(name))
    {
        char* end = nullptr;
        const double d = std::strtod(v->c_str(), &end);
        if (end && *end == '\0' && d >= 0)
            return d;
    }
    return fallback;
}

}  // namespace

std::unique_ptr<emulator_handle> start_emulator(boost::asio::io_context& ioc, cli_context& ctx)
{
    emulator::emulator_config cfg;
    cfg.time_to_first_token =
        std::chrono::milliseconds(static_cast<std::int64_t>(env_number(ctx.env, "EP_EMULATOR_FIRST_TOKEN_MS", 250)));
    cfg.tokens_per_second = env_number(ctx.env, "EP_EMULATOR_TOKENS_PER_SECOND", 60);
    cfg.zero_latency = cfg.tokens_per_second == 0;
    if (cfg.zero_latency)
        cfg.tokens_per_second = 60;
    auto emu = std::make_unique<emulator_handle>(ioc.get_executor(), cfg);
    emu->start();
    if (!ctx.options.quiet)
        ctx.err << "ep-run: --emulate: every provider is served by the in-process EP emulator at " << emu->base_url()
                << " (development tool, answers are emulated)\n";
    return emu;
}

}  // namespace ep::cli
