#include "http/http_types.hpp"

namespace ep::server {

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

response json_response(const request& req, http::status status, const json& body)
{
    response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = dump_json(body);
    res.body() += '\n';
    res.prepare_payload();
    return res;
}

json error_body(std::string_view type, std::string_view message, std::string_view code)
{
    json e = {{"type", type}, {"message", message}};
    if (!code.empty())
        e["code"] = code;
    return json{{"error", std::move(e)}};
}

response error_response(const request& req, http::status status, std::string_view type, std::string_view message,
                        std::string_view code)
{
    return json_response(req, status, error_body(type, message, code));
}

std::string_view error_type_for(http::status status)
{
    switch (status)
    {
    case http::status::bad_request: return "invalid_request_error";
    case http::status::unauthorized: return "authentication_error";
    case http::status::forbidden: return "permission_error";
    case http::status::not_found: return "not_found_error";
    case http::status::method_not_allowed: return "method_not_allowed";
    case http::status::conflict: return "conflict_error";
    case http::status::payload_too_large: return "request_too_large";
    case http::status::unsupported_media_type: return "invalid_request_error";
    case http::status::unprocessable_entity: return "validation_error";
    case http::status::too_many_requests: return "rate_limit_error";
    case http::status::service_unavailable: return "service_unavailable";
    case http::status::gateway_timeout: return "timeout_error";
    default: return static_cast<unsigned>(status) >= 500 ? "api_error" : "invalid_request_error";
    }
}

}  // namespace ep::server
