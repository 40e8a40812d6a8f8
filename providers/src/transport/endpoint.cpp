// Base-URL parsing and HTTPS_PROXY / NO_PROXY handling.

#include <ep/providers/http_client.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace ep::providers {

namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string env_or_empty(const char* upper, const char* lower_name)
{
    if (const char* v = std::getenv(upper); v && *v)
        return v;
    if (const char* v = std::getenv(lower_name); v && *v)
        return v;
    return {};
}

}  // namespace

const std::string* find_http_header(const http_headers& headers, std::string_view name)
{
    for (const auto& [k, v] : headers)
        if (iequals(k, name))
            return &v;
    return nullptr;
}

boost::system::result<http_endpoint> http_endpoint::parse(std::string_view url)
{
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        return parsed.error();
    const boost::urls::url_view& u = *parsed;

    http_endpoint ep;
    const std::string scheme = lower(u.scheme());
    if (scheme == "https")
        ep.tls = true;
    else if (scheme != "http")
        return boost::system::error_code(std::make_error_code(std::errc::invalid_argument));

    // host() keeps IPv6 brackets; the address itself is what we resolve and verify.
    if (u.host_type() == boost::urls::host_type::ipv6)
        ep.host = u.host_address();
    else
        ep.host = u.encoded_host().decode();
    if (ep.host.empty())
        return boost::system::error_code(std::make_error_code(std::errc::invalid_argument));

    ep.port = u.has_port() ? u.port_number() : (ep.tls ? 443 : 80);
    if (u.has_port() && ep.port == 0)
        return boost::system::error_code(std::make_error_code(std::errc::invalid_argument));

    ep.path = u.encoded_path().decode();
    while (!ep.path.empty() && ep.path.back() == '/')
        ep.path.pop_back();
    if (u.has_userinfo())
        ep.userinfo = u.encoded_userinfo().decode();
    return ep;
}

std::string http_endpoint::authority() const
{
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80))
        h += ":" + std::to_string(port);
    return h;
}

std::string http_endpoint::pool_key() const
{
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

proxy_settings proxy_settings::from_environment()
{
    return {.https_proxy = env_or_empty("HTTPS_PROXY", "https_proxy"),
            .no_proxy = env_or_empty("NO_PROXY", "no_proxy")};
}

std::optional<http_endpoint> proxy_settings::proxy_for(const http_endpoint& target) const
{
    if (!target.tls || https_proxy.empty())
        return std::nullopt;

    // NO_PROXY: comma-separated; "*" matches everything; an entry matches the host itself or
    // any subdomain of it (a leading dot is optional); an optional ":port" must match too.
    const std::string host = lower(target.host);
    std::string_view list = no_proxy;
    while (!list.empty())
    {
        auto comma = list.find(',');
        std::string entry = lower(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        entry.erase(std::remove_if(entry.begin(), entry.end(), [](unsigned char c) { return std::isspace(c); }),
                    entry.end());
        if (entry.empty())
            continue;
        if (entry == "*")
            return std::nullopt;
        if (auto colon = entry.rfind(':'); colon != std::string::npos && entry.find(':') == colon)
        {
            if (entry.substr(colon + 1) != std::to_string(target.port))
                continue;
            entry.resize(colon);
        }
        if (!entry.empty() && entry.front() == '.')
            entry.erase(0, 1);
        if (host == entry || (host.size() > entry.size() && host.ends_with(entry) &&
                              host[host.size() - entry.size() - 1] == '.'))
            return std::nullopt;
    }

    // Proxies are often given without a scheme ("proxy:3128").
    std::string url = https_proxy.find("://") == std::string::npos ? "http://" + https_proxy : https_proxy;
    auto proxy = http_endpoint::parse(url);
    if (!proxy)
        return std::nullopt;
    if (proxy->port == 0)
        proxy->port = 80;
    return *proxy;
}

}  // namespace ep::providers
