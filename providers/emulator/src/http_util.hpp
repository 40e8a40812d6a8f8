#pragma once
// Small HTTP helpers of the emulator: request targets, headers, redaction, admin input.

#include "ep/emulator/faults.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::emulator::detail {

struct split_target_t
{
    std::string path;  ///< percent-decoded
    std::vector<std::pair<std::string, std::string>> query;

    bool query_has(std::string_view key, std::string_view value) const;
};

split_target_t split_target(std::string_view target);

/// The target with the value of any `key=` query parameter replaced by "[redacted]".
std::string redact_target(std::string_view target);

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

/// A header's value, "" when absent.
std::string header(const http_request& req, std::string_view name);

/// Lower-case header names; credential headers' values replaced by "[redacted]".
std::map<std::string, std::string> redacted_headers(const http_request& req);

/// A short hex id, unique per response and stable per request text.
std::string hex_id(std::uint64_t seed, std::uint64_t counter);

/// Parses the body of POST /_emulator/faults: one rule object or an array of them.
std::optional<std::vector<fault_rule>> parse_fault_rules(const std::string& body, std::string& error);

}  // namespace ep::emulator::detail
