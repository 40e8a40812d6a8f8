#pragma once
// The `ep-serve` command line: flags and environment into a server_config and a
// runtime_config, then the server on one io_context until SIGINT/SIGTERM. A library function
// so tests can parse flags without a process; engine/server/main.cpp only calls run_serve_cli.

#include <ep/common/env.hpp>
#include <ep/server/server.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace ep::server {

struct serve_options
{
    server_config server;
    std::string db;                 // --db (empty: $EP_DB, else ./.ep/runs.db)
    std::string durability = "normal";
    std::string instance;           // --instance: the lease owner identity (default ep-serve@HOST:PORT)
    std::optional<std::filesystem::path> personas_file;
    std::optional<std::filesystem::path> tokens_file;
    bool emulate = false;
};

/// Parses argv (and EP_SERVE_TOKENS / the tokens file) into options. On a usage error returns
/// nullopt after printing it to `err`; `--help` prints to `out` and returns nullopt with
/// `exit_code` 0.
std::optional<serve_options> parse_serve_args(const std::vector<std::string>& args, const ep::environment& env,
                                              std::ostream& out, std::ostream& err, int& exit_code);

/// Exit codes: 0 after a signal-initiated stop, 2 for a usage or configuration error (bad
/// flags, non-loopback listen without tokens, unusable TLS files or store, port in use).
int run_serve_cli(int argc, char** argv);

}  // namespace ep::server
