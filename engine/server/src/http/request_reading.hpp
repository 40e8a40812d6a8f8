#pragma once
// How ep-serve reads the HTTP layer of a request, sans-I/O: the limits its Beast parser runs
// with and the request target split into path and query. The listener and the dispatcher use
// these, and so does the request fuzzer (fuzz/fuzz_http_request.cpp), which feeds raw bytes
// through the very parser configuration the server uses.

#include "http/http_types.hpp"

#include <ep/server/server.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ep::server {

/// The header and body limits of `cfg` on a request parser (431 and 413 beyond them).
void limit_request_parser(http::request_parser<http::string_body>& parser, const server_config& cfg);

/// A request target in origin form ("/v1/runs?status=running&limit=5").
struct request_target
{
    std::string path;                          // percent-encoded, as routed
    std::map<std::string, std::string> query;  // percent-decoded; a repeated key keeps its last value
};

/// Nullopt when `target` is not a valid origin-form target (the dispatcher answers 400).
std::optional<request_target> parse_request_target(std::string_view target);

}  // namespace ep::server
