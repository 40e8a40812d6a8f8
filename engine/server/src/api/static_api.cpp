// The web page: GET / (index.html) and GET /ui/{file}, served from the assets compiled into the
// binary (engine/server/web/, embedded by engine/server/web/embed_assets.cmake), so an installed
// ep-serve needs no data directory. Only the embedded names exist: a request never reaches the
// file system, so no path ("..", "%2F", a symlink) can escape. The assets are public (the page
// holds no secret; it asks for a bearer token and sends it to the API); every API route still
// needs the token. Each answer carries a strong ETag and `Cache-Control: no-cache`, so a browser
// revalidates and gets a 304 until the binary changes.
#include "api/api_common.hpp"
#include "server_impl.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace ep::server {

/// Defined by the generated embedded_web_assets.cpp: the content of an embedded asset by its
/// file name ("index.html", "app.js", …), nullopt for any other name.
std::optional<std::string_view> embedded_web_asset(std::string_view name);

namespace {

std::string_view content_type_for(std::string_view name)
{
    auto ends_with = [&](std::string_view ext) {
        return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
    };
    if (ends_with(".html"))
        return "text/html; charset=utf-8";
    if (ends_with(".js"))
        return "text/javascript; charset=utf-8";
    if (ends_with(".css"))
        return "text/css; charset=utf-8";
    if (ends_with(".svg"))
        return "image/svg+xml";
    return "application/octet-stream";
}

// FNV-1a 64 of the content: the ETag changes exactly when the embedded bytes do.
std::string etag_for(std::string_view body)
{
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : body)
    {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[24];
    std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
    return buf;
}

// True when If-None-Match lists `etag` (or is "*"): the browser's copy is current.
bool matches(std::string_view if_none_match, std::string_view etag)
{
    if (if_none_match == "*")
        return true;
    return if_none_match.find(etag) != std::string_view::npos;
}

// GET / is index.html; GET /ui/{file} the embedded file of that name. The name is read here,
// not passed in, so the coroutine owns no argument (g++ 12 coroutine rules of SESSION.md).
asio::awaitable<void> serve_asset(request_context& ctx)
{
    const auto file = ctx.params.find("file");
    const std::string name = file == ctx.params.end() ? std::string("index.html") : file->second;
    auto body = embedded_web_asset(name);
    if (!body)
        co_return co_await reply(ctx, error_response(ctx.req, http::status::not_found, "not_found_error",
                                                       "no such page asset: " + name));
    const auto etag = etag_for(*body);
    const auto inm = ctx.req.find(http::field::if_none_match);
    const bool fresh = inm != ctx.req.end() && matches(inm->value(), etag);
    response res{fresh ? http::status::not_modified : http::status::ok, ctx.req.version()};
    res.keep_alive(ctx.req.keep_alive());
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
    if (!fresh)
    {
        res.set(http::field::content_type, content_type_for(name));
        // The page loads only its own assets and talks only to this server.
        res.set("Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        res.set("Referrer-Policy", "no-referrer");
        res.body() = std::string(*body);
    }
    res.prepare_payload();
    co_await ctx.out.send(std::move(res));
}

}  // namespace

void add_static_routes(server::impl& s)
{
    route_options page;
    page.public_route = true;
    s.routes.add(http::verb::get, "/", serve_asset, page);
    s.routes.add(http::verb::get, "/ui/{file}", serve_asset, page);
}

}  // namespace ep::server
