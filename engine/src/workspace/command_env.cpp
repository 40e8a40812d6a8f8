// The scrubbed environment of a command, and what a command_result says about itself.
#include <ep/engine/workspace/command.hpp>

#include <signal.h>
#include <string.h>

#include <cstdlib>

namespace ep::engine {
namespace {

bool valid_name(std::string_view name)
{
    if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (char c : name)
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    return true;
}

/// EP_OPENAI_API_KEY and friends (and any future EP_*_API_KEY), in any letter case.
bool is_key_variable(std::string_view name)
{
    std::string upper;
    for (char c : name)
        upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return upper.size() > 11 && upper.rfind("EP_", 0) == 0 && upper.substr(upper.size() - 8) == "_API_KEY";
}

workspace_error refused(const std::string& name, const std::string& why)
{
    return make_workspace_error(command_errc::env_refused, {}, "`env: " + name + "`: refused: " + why);
}

std::string engine_variable(const char* name, std::string fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

ws_result<std::vector<std::string>> command_environment(const command_spec& spec, const command_options& options,
                                                        const std::filesystem::path& home,
                                                        const std::filesystem::path& tmpdir)
{
    std::map<std::string, std::string> env;
    env["PATH"] = options.path.value_or(engine_variable("PATH", "/usr/local/bin:/usr/bin:/bin"));
    env["HOME"] = home.string();
    env["TMPDIR"] = tmpdir.string();
    env["LANG"] = engine_variable("LANG", options.default_lang);
    for (const auto& [name, value] : spec.env)
    {
        if (!valid_name(name))
            return refused(printable_path(name), "not a valid variable name (letters, digits and `_`)");
        if (is_key_variable(name))
            return refused(name, "API key variables (EP_*_API_KEY) are never passed to commands");
        if (value.find('\0') != std::string::npos)
            return refused(name, "the value contains a NUL byte");
        for (const auto& secret : options.secrets)
            if (secret.size() >= 4 && value.find(secret) != std::string::npos)
                return refused(name, "the value contains a configured API key");
        env[name] = value;
    }
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [name, value] : env)
        out.push_back(name + "=" + value);
    return out;
}

const char* to_string(output_stream s) noexcept { return s == output_stream::out ? "stdout" : "stderr"; }

bool command_result::succeeded() const noexcept
{
    return exit_code && *exit_code == 0 && !timed_out && !cancelled;
}

int command_result::status_code() const noexcept
{
    if (exit_code)
        return *exit_code;
    if (signal)
        return 128 + *signal;
    return -1;
}

std::string command_result::describe() const
{
    std::string why;
    if (exit_code)
        why = "exit code " + std::to_string(*exit_code);
    else if (signal)
    {
        const char* abbrev = ::sigabbrev_np(*signal);
        why = std::string("killed by ") + (abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(*signal));
    }
    else
        why = "no exit status";
    if (timed_out)
        why += " after the timeout (" + std::to_string(duration_ms) + " ms)";
    if (cancelled)
        why += " (cancelled)";
    return why;
}

nlohmann::json command_result::to_json() const
{
    return {{"exit_code", status_code()},
            {"signal", signal ? nlohmann::json(*signal) : nlohmann::json(nullptr)},
            {"timed_out", timed_out},
            {"cancelled", cancelled},
            {"stdout", stdout_text},
            {"stderr", stderr_text},
            {"duration_ms", duration_ms},
            {"sandbox", sandbox}};
}

}  // namespace ep::engine
