#pragma once
// The one HTTP request type: what a protocol encoder produces (sans-I/O, no Asio here) and
// what the transport sends.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ep::providers {

/// Header fields in order of appearance; lookups are case-insensitive.
using http_headers = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header called `name` (any case), or nullptr.
const std::string* find_http_header(const http_headers& headers, std::string_view name);

struct http_request
{
    std::string method = "POST";
    std::string target;    // path and query, already joined with the base URL's path prefix
    http_headers headers;  // may hold credentials: never logged
    std::string body;
};

}  // namespace ep::providers
