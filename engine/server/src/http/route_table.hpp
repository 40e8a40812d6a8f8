#pragma once
// The route table: path pattern → (verb → handler), as in Boost.MySQL's C++20 example server,
// so that an unknown path is a 404 and a known path with another verb a 405 with `Allow`.
// Patterns are literal segments and `{name}` captures: "/v1/runs/{id}/events".

#include "http/http_types.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ep::server {

/// What a handler gets. It sends exactly one response through `out`.
struct request_context
{
    const request& req;
    response_sink& out;
    std::string path;                           // the target without its query
    std::map<std::string, std::string> params;  // the pattern's captures
    std::map<std::string, std::string> query;   // percent-decoded query parameters
    std::string principal;                      // who asked: "token:N" or "anonymous"
};

using handler_fn = std::function<asio::awaitable<void>(request_context&)>;

struct route_options
{
    bool public_route = false;  // served without a bearer token (/healthz, /readyz)
};

class route_table
{
public:
    void add(http::verb verb, std::string pattern, handler_fn handler, route_options options = {});

    struct route
    {
        http::verb verb;
        std::string pattern;
        std::vector<std::string> segments;
        handler_fn handler;
        route_options options;
    };

    enum class outcome { found, not_found, method_not_allowed };
    struct match_result
    {
        outcome kind = outcome::not_found;
        const route* found = nullptr;
        std::map<std::string, std::string> params;
        std::vector<http::verb> allowed;  // method_not_allowed: the verbs the path has
    };
    /// `path` without its query string.
    match_result match(http::verb verb, std::string_view path) const;

    /// Every (verb, pattern), in registration order (the OpenAPI test compares them).
    std::vector<std::pair<std::string, std::string>> list() const;

private:
    std::vector<route> routes_;
};

/// "GET, POST" for an Allow header.
std::string allow_header(const std::vector<http::verb>& verbs);

}  // namespace ep::server
