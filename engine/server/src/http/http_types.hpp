#pragma once
// The HTTP vocabulary of ep-serve: request/response types, the sink a handler writes its
// response to (a socket in the server, memory in the tests), and the JSON error shape.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace ep::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/// Where a handler's response goes. A handler sends exactly one response: either send() once,
/// or start_stream(), any number of write() and finish() (chunked transfer encoding).
/// Every call returns the transport's error (a client that went away) and never throws.
class response_sink
{
public:
    virtual ~response_sink() = default;
    virtual asio::awaitable<boost::system::error_code> send(response res) = 0;
    virtual asio::awaitable<boost::system::error_code> start_stream(http::response<http::empty_body> head) = 0;
    /// One chunk, written before the call completes (an SSE event reaches the client now).
    virtual asio::awaitable<boost::system::error_code> write(std::string_view data) = 0;
    virtual asio::awaitable<boost::system::error_code> finish() = 0;
    /// Whether anything was sent yet.
    virtual bool started() const noexcept = 0;
};

/// Serialises for the wire: invalid UTF-8 is replaced, never an exception (STYLE.md §10).
std::string dump_json(const json& j);

/// A JSON response. `request` supplies version and keep-alive.
response json_response(const request& req, http::status status, const json& body);

/// `{"error": {"type", "message", "code"?}}` — the API's and OpenAI's error shape. The message
/// is ours and safe to show; internal diagnostics are logged, never put here.
json error_body(std::string_view type, std::string_view message, std::string_view code = {});
response error_response(const request& req, http::status status, std::string_view type, std::string_view message,
                        std::string_view code = {});

/// The error `type` for an HTTP status (400 invalid_request_error, 401 authentication_error,
/// 404 not_found_error, 429 rate_limit_error, 5xx api_error, …).
std::string_view error_type_for(http::status status);

}  // namespace ep::server
