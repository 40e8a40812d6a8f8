#pragma once
// The one way EP's libraries log: an injected spdlog logger (STYLE.md §11). Programs build it
// with make_stderr_logger from EP_LOG_LEVEL; library objects given none fall back to
// default_logger(), so an error is never written to a logger without a sink.

#include <spdlog/common.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog { class logger; }

namespace ep {

class environment;

/// "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off"; case-insensitive.
/// nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) noexcept;

/// The level EP_LOG_LEVEL asks for in `env`, default warn; an unknown value is reported in
/// `problem` (when given) and the default used.
spdlog::level::level_enum log_level_from(const environment& env, std::string* problem = nullptr);

/// A thread-safe logger writing "<program>: <level>: <message>" lines to stderr.
std::shared_ptr<spdlog::logger> make_stderr_logger(const std::string& program, spdlog::level::level_enum level);

/// For library objects constructed without a logger: stderr at EP_LOG_LEVEL of the process
/// environment (default warn). One instance per process.
std::shared_ptr<spdlog::logger> default_logger();

}  // namespace ep
