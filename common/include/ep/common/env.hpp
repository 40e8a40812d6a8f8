#pragma once
// The process environment plus an optional `.env` file (DESIGN.md: the real environment wins).

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ep {

class environment
{
public:
    /// Snapshot of the real environment, with `dotenv` (if it exists) filling names it lacks.
    static environment load(const std::filesystem::path& dotenv = ".env");
    /// An environment with exactly these values (tests).
    static environment from_map(std::map<std::string, std::string> values);

    /// The value of `name`; an empty value counts as unset.
    std::optional<std::string> get(const std::string& name) const;
    void set(const std::string& name, std::string value) { values_[name] = std::move(value); }

    const std::map<std::string, std::string>& values() const noexcept { return values_; }

private:
    std::map<std::string, std::string> values_;
};

/// Parses `.env` text: KEY=VALUE lines, `export` prefix, # comments, single/double quotes.
std::map<std::string, std::string> parse_dotenv(const std::string& text);

}  // namespace ep
