// locate_claude_cli: the one place that decides which `claude` a claude_agent provider runs.
#include <ep/common/env.hpp>
#include <ep/providers/options.hpp>

#include <optional>

#include <sys/stat.h>
#include <unistd.h>

namespace ep::providers {

namespace {

bool is_regular_file(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_executable_file(const std::string& path)
{
    return is_regular_file(path) && ::access(path.c_str(), X_OK) == 0;
}

cli_location checked(std::string path, const std::string& source)
{
    cli_location out{std::move(path), {}};
    if (!is_executable_file(out.path))
        out.problem = "the Claude Code CLI '" + out.path + "' (" + source + ") is not an executable file";
    return out;
}

// Like a shell: the first executable `program` on PATH; failing that, the first regular
// file of that name (so that the problem reported is "not executable", not "missing").
std::optional<std::string> find_on_path(const std::string& program, const ep::environment& env)
{
    auto path = env.get("PATH");
    if (!path)
        return std::nullopt;
    std::optional<std::string> first_file;
    std::size_t start = 0;
    while (start <= path->size())
    {
        std::size_t end = path->find(':', start);
        if (end == std::string::npos)
            end = path->size();
        if (end > start)
        {
            std::string candidate = path->substr(start, end - start) + "/" + program;
            if (is_executable_file(candidate))
                return candidate;
            if (!first_file && is_regular_file(candidate))
                first_file = candidate;
        }
        start = end + 1;
    }
    return first_file;
}

}  // namespace

cli_location locate_claude_cli(const provider_config& cfg, const ep::environment& env)
{
    if (!cfg.cli_env.empty())
        if (auto named = env.get(cfg.cli_env))
            return checked(*named, cfg.cli_env);
    const std::string program = cfg.cli_path.empty() ? std::string("claude") : cfg.cli_path;
    if (program.find('/') != std::string::npos)
        return checked(program, "provider '" + cfg.name + "' cli");
    if (auto found = find_on_path(program, env))
        return checked(*found, "found on PATH");
    const std::string var = cfg.cli_env.empty() ? std::string("EP_CLAUDE_CLI") : cfg.cli_env;
    return {{},
            "the Claude Code CLI was not found: install it (npm i -g @anthropic-ai/claude-code) and put `" + program +
                "` on PATH, or set " + var + " to its path"};
}

}  // namespace ep::providers
