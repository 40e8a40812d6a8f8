#pragma once
// A deliberately small, synchronous Beast client for the emulator tests. It is NOT
// ep::providers: the emulator is tested against plain HTTP so that its wire format is checked
// independently of our own provider code.

#include <nlohmann/json.hpp>

#include <boost/beast/core/error.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ep::emulator::test {

struct raw_response
{
    boost::beast::error_code ec;  ///< first error (connect, write, read, timeout), if any
    bool got_header = false;
    unsigned status = 0;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;                            ///< every body byte received (chunked decoded)
    bool complete = false;                       ///< the whole message was received
    std::chrono::milliseconds header_after{0};   ///< time from request sent to response header
    std::chrono::milliseconds elapsed{0};

    std::string header(const std::string& name) const
    {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

struct raw_request
{
    std::string method = "POST";
    std::string target;
    std::string body;
    std::map<std::string, std::string> headers;
    std::chrono::milliseconds timeout{5000};  ///< total time for the whole exchange
    /// TLS: trust this CA PEM and verify the host name `tls_host` (empty = plain HTTP).
    std::string ca_pem;
    std::string tls_host = "localhost";
};

raw_response send(unsigned short port, const raw_request& req);

/// POST a JSON body.
raw_response post_json(unsigned short port, const std::string& target, const nlohmann::json& body,
                       std::map<std::string, std::string> headers = {});

struct sse_event
{
    std::string event;  ///< "" when no event: line
    std::string data;
    nlohmann::json json() const { return nlohmann::json::parse(data, nullptr, false); }
};

/// Splits an SSE body (LF or CRLF) into events; data lines joined with "\n".
std::vector<sse_event> parse_sse(const std::string& body);

}  // namespace ep::emulator::test
