#pragma once
// Helpers every handler uses: JSON request bodies, runtime errors as HTTP errors, run records
// as JSON.

#include "http/route_table.hpp"

#include <ep/runtime/runtime.hpp>

#include <optional>
#include <string>

namespace ep::server {

/// Sends `res` (a void awaitable, so handlers can `co_return co_await reply(...)`).
asio::awaitable<void> reply(request_context& ctx, response res);

/// The body as a JSON object, or the message of the 400 to send (not JSON, not an object).
struct body_result
{
    std::optional<json> value;
    std::string error;
};
body_result parse_json_object(const request& req, bool empty_is_object);

/// The first key of `body` not in `allowed`, for "unknown field" errors.
std::optional<std::string> unknown_key(const json& body, std::initializer_list<std::string_view> allowed);

/// HTTP status and error type for a runtime error.
http::status status_for(const runtime::runtime_error& e);
/// The error response for a runtime error; 422s carry every problem with its location.
response runtime_error_response(const request& req, const runtime::runtime_error& e);

/// "2024-05-01T12:00:00.123Z".
std::string iso_time(persistence::timestamp t);
std::optional<std::string> iso_time(const std::optional<persistence::timestamp>& t);

/// A run as listed: id, workflow, status, mix, times, usage, cost, counts, whether it runs here.
json run_summary_json(const persistence::run_record& r, bool live_here);
json phase_json(const persistence::phase_record& p);
json attempt_json(const persistence::attempt_record& a);

/// True for the mix names a client may choose (A–E): a client never names a file on the server.
bool is_allowed_mix(std::string_view mix);

}  // namespace ep::server
