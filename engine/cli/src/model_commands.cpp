// `ep-run --models PROVIDER`: the provider's own model list, marked against the catalogue.
#include <ep/cli/commands.hpp>
#include <ep/cli/emulate.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <ostream>

namespace ep::cli {
namespace {

std::string count_or_dash(const std::optional<std::int64_t>& n)
{
    return n ? std::to_string(*n) : std::string("-");
}

void print_listing(std::ostream& out, const runtime::model_listing& listing)
{
    out << listing.provider << ": " << listing.rows.size() << " models listed by " << listing.base_url << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-40s %-10s %12s %12s\n", "MODEL", "CATALOGUE", "CONTEXT", "MAX OUTPUT");
    out << line;
    for (const auto& row : listing.rows)
    {
        std::snprintf(line, sizeof line, "  %-40s %-10s %12s %12s\n", row.id.c_str(), row.in_catalogue ? "yes" : "no",
                      count_or_dash(row.context_window).c_str(), count_or_dash(row.max_output_tokens).c_str());
        out << line;
    }
    if (listing.not_listed.empty())
        return;
    out << "In the catalogue but not listed by the provider (retired, renamed or not on this account):\n";
    for (const auto& id : listing.not_listed)
        out << "  " << id << "\n";
}

}  // namespace

int models_command(cli_context& ctx)
{
    asio::io_context ioc;
    auto emu = ctx.options.emulate ? start_emulator(ioc, ctx) : nullptr;
    const ep::environment env = emu ? emulated_environment(ctx.env, emu->base_url()) : ctx.env;
    runtime::runtime rt(ioc.get_executor(), runtime_config_for(ctx, env));
    std::optional<runtime::result<runtime::model_listing>> listing;
    std::string provider = ctx.options.provider;
    std::string config = ctx.options.config;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            listing.emplace(co_await rt.list_models(provider, config));
            if (emu)
                emu->stop();
        },
        asio::detached);
    ioc.run();
    if (!listing)
        return 1;
    if (!*listing)
    {
        print_problems(ctx, listing->error());
        return 2;
    }
    print_listing(ctx.out, **listing);
    return 0;
}

}  // namespace ep::cli
