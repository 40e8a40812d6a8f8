#include <ep/common/env.hpp>
#include <ep/common/logging.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace ep {

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) noexcept
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "warning")
        lower = "warn";
    if (lower == "trace") return spdlog::level::trace;
    if (lower == "debug") return spdlog::level::debug;
    if (lower == "info") return spdlog::level::info;
    if (lower == "warn") return spdlog::level::warn;
    if (lower == "error") return spdlog::level::err;
    if (lower == "critical") return spdlog::level::critical;
    if (lower == "off") return spdlog::level::off;
    return std::nullopt;
}

spdlog::level::level_enum log_level_from(const environment& env, std::string* problem)
{
    if (auto v = env.get("EP_LOG_LEVEL"))
    {
        if (auto level = parse_log_level(*v))
            return *level;
        if (problem)
            *problem = "EP_LOG_LEVEL='" + *v + "' is not one of trace, debug, info, warn, error, critical, off; using warn";
    }
    return spdlog::level::warn;
}

std::shared_ptr<spdlog::logger> make_stderr_logger(const std::string& program, spdlog::level::level_enum level)
{
    // Unbuffered stderr (no colour codes: the output is often a log file or a CI console).
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>(program, std::move(sink));
    logger->set_pattern("%n: %l: %v");
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    return logger;
}

std::shared_ptr<spdlog::logger> default_logger()
{
    static const auto instance = [] {
        const char* v = std::getenv("EP_LOG_LEVEL");
        const auto level = v ? parse_log_level(v) : std::nullopt;
        return make_stderr_logger("ep", level.value_or(spdlog::level::warn));
    }();
    return instance;
}

}  // namespace ep
