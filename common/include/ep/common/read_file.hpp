#pragma once
// read_whole_file: a file's bytes as a string, for the small text files EP reads whole
// (workflows, policies, .env, web assets).

#include <filesystem>
#include <optional>
#include <string>

namespace ep {

/// The whole content of `path`, byte for byte; nullopt when it cannot be opened or read.
std::optional<std::string> read_whole_file(const std::filesystem::path& path);

}  // namespace ep
