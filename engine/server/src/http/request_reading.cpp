#include "http/request_reading.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cstdint>

namespace ep::server {

void limit_request_parser(http::request_parser<http::string_body>& parser, const server_config& cfg)
{
    parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    parser.body_limit(cfg.max_body_bytes);
}

std::optional<request_target> parse_request_target(std::string_view target)
{
    auto url = boost::urls::parse_origin_form(target);
    if (!url)
        return std::nullopt;
    request_target out;
    out.path = std::string(url->encoded_path());
    for (auto p : url->params())
        out.query[p.key] = p.has_value ? p.value : std::string{};
    return out;
}

}  // namespace ep::server
