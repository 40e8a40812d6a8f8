// list_models (list_models.hpp): GET the provider's model list page by page over
// http_exchange, and read each protocol's list shape.
#include <ep/providers/call_deadline.hpp>
#include <ep/providers/list_models.hpp>
#include <ep/providers/tls.hpp>

#include "protocols/codec.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace ep::providers {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

/// Largest list body kept (a real list is tens of kilobytes).
constexpr std::size_t max_list_body = 8 * 1024 * 1024;

std::string trim_slashes(std::string path)
{
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    return path;
}

std::string query_value(std::string_view text)
{
    return boost::urls::encode(text, boost::urls::unreserved_chars);
}

/// The first page's target and the credentials, by protocol. Headers never leave this file
/// except inside the request (http_exchange never logs them).
http_request list_request(const provider_config& cfg, const http_endpoint& ep, int page_size,
                          const std::string& page_token)
{
    http_request req;
    req.method = "GET";
    const std::string base = trim_slashes(ep.path);
    if (cfg.type == "anthropic")
    {
        // The base URL is the API root; tolerate one that ends in /v1 (as the chat encoder does).
        req.target = (base.ends_with("/v1") ? base : base + "/v1") + "/models?limit=" + std::to_string(page_size);
        if (!page_token.empty())
            req.target += "&after_id=" + query_value(page_token);
        if (!cfg.api_key.empty())
            req.headers.emplace_back("x-api-key", cfg.api_key);
        req.headers.emplace_back("anthropic-version", "2023-06-01");
    }
    else if (cfg.type == "gemini")
    {
        req.target = base + "/models?pageSize=" + std::to_string(page_size);
        if (!page_token.empty())
            req.target += "&pageToken=" + query_value(page_token);
        if (!cfg.api_key.empty())
            req.headers.emplace_back("x-goog-api-key", cfg.api_key);
    }
    else
    {
        req.target = base + "/models";
        if (cfg.azure_api_version)
        {
            req.target += "?api-version=" + query_value(*cfg.azure_api_version);
            if (!cfg.api_key.empty())
                req.headers.emplace_back("api-key", cfg.api_key);
        }
        else if (!cfg.api_key.empty())
            req.headers.emplace_back("Authorization", "Bearer " + cfg.api_key);
    }
    req.headers.emplace_back("Accept", "application/json");
    for (const auto& [name, value] : cfg.extra_headers)
        req.headers.emplace_back(name, value);
    return req;
}

std::optional<std::int64_t> get_int(const json& obj, const char* key)
{
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number_integer())
        return std::nullopt;
    return it->get<std::int64_t>();
}

std::string get_string(const json& obj, const char* key)
{
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

/// One page of the list; returns the next page token ("" when it was the last page), or
/// nullopt when the body is not the protocol's list shape.
std::optional<std::string> read_page(const std::string& type, const json& body, std::vector<listed_model>& out)
{
    const char* array_key = type == "gemini" ? "models" : "data";
    if (!body.is_object() || !body.contains(array_key) || !body[array_key].is_array())
        return std::nullopt;
    for (const auto& m : body[array_key])
    {
        if (!m.is_object())
            continue;
        listed_model row;
        if (type == "gemini")
        {
            row.id = get_string(m, "name");
            if (row.id.starts_with("models/"))
                row.id.erase(0, 7);
            row.display_name = get_string(m, "displayName");
            row.context_window = get_int(m, "inputTokenLimit");
            row.max_output_tokens = get_int(m, "outputTokenLimit");
        }
        else
        {
            row.id = get_string(m, "id");
            row.display_name = get_string(m, "display_name");
            row.context_window = get_int(m, "max_input_tokens");
            row.max_output_tokens = get_int(m, "max_tokens");
        }
        if (!row.id.empty())
            out.push_back(std::move(row));
    }
    if (type == "gemini")
        return get_string(body, "nextPageToken");
    if (type == "anthropic" && body.value("has_more", false))
        return get_string(body, "last_id");
    return std::string{};
}

/// Fetches one page into `out`; sets `next` to the following page's token.
asio::awaitable<call_status> fetch_page(asio::any_io_executor ex, const provider_config& cfg,
                                        const http_endpoint& ep, const list_models_options& opts,
                                        std::string& next, std::vector<listed_model>& out)
{
    call_status st;
    http_exchange x(ex, opts.transport);
    if ((st.ec = co_await x.start(ep, list_request(cfg, ep, opts.page_size, next), st.diag)))
        co_return st;
    std::string body;
    if ((st.ec = co_await x.read_all(body, max_list_body, st.diag)))
        co_return st;
    const int status = x.head().status;
    if (status < 200 || status > 299)
    {
        // The protocol's own error shapes (the codec table's classifier for the provider's type).
        const auto* row = sansio::find_protocol(cfg.type);
        const auto* codec = row ? std::get_if<sansio::http_codec>(&row->codec) : nullptr;
        st.ec = codec ? codec->classify_error(status, x.head().headers, body, st.diag)
                      : make_error_code(provider_errc::invalid_request);
        if (st.diag.message.empty())
            st.diag.message = "listing the models of '" + cfg.name + "' failed with HTTP " + std::to_string(status);
        co_return st;
    }
    const json parsed = json::parse(body, nullptr, false);
    auto token = read_page(cfg.type, parsed, out);
    if (!token)
    {
        st.ec = provider_errc::malformed_event;
        st.diag.message = "the model list of '" + cfg.name + "' is not in the expected shape";
        co_return st;
    }
    if (*token == next && !next.empty())
        token->clear();  // a server that repeats its cursor would loop forever
    next = *token;
    co_return st;
}

asio::awaitable<call_status> fetch_all(asio::any_io_executor ex, const provider_config& cfg, http_endpoint ep,
                                       list_models_options opts, std::vector<listed_model>& out)
{
    std::string next;
    for (int page = 0; page < std::max(opts.max_pages, 1); ++page)
    {
        auto st = co_await fetch_page(ex, cfg, ep, opts, next, out);
        if (!st.ok() || next.empty())
            co_return st;
    }
    co_return call_status{};
}

}  // namespace

asio::awaitable<boost::system::result<std::vector<listed_model>>> list_models(asio::any_io_executor ex,
                                                                             const provider_config& cfg,
                                                                             list_models_options opts,
                                                                             diagnostics& diag)
{
    if (cfg.type != "openai" && cfg.type != "anthropic" && cfg.type != "gemini")
    {
        diag.message = "provider '" + cfg.name + "' (type " + cfg.type + ") has no model list endpoint";
        co_return make_error_code(provider_errc::invalid_request);
    }
    if (!cfg.available || cfg.base_url.empty())
    {
        diag.message = "provider '" + cfg.name + "' is unavailable (no credentials or base URL)";
        co_return make_error_code(provider_errc::unavailable);
    }
    auto ep = http_endpoint::parse(cfg.base_url);
    if (!ep)
    {
        diag.message = "provider '" + cfg.name + "' has an invalid base URL";
        co_return make_error_code(provider_errc::invalid_request);
    }
    if (ep->tls && !opts.transport.tls)
    {
        auto tls = make_tls_context(cfg.ca_file);
        if (!tls)
        {
            diag.message = "cannot set up TLS for provider '" + cfg.name + "'";
            co_return make_error_code(provider_errc::tls_failed);
        }
        opts.transport.tls = *tls;
    }
    std::vector<listed_model> out;
    auto st = co_await run_with_total_timeout(fetch_all(ex, cfg, *ep, opts, out), opts.transport.timeouts.total);
    if (!st.ok())
    {
        diag = std::move(st.diag);
        co_return st.ec;
    }
    co_return out;
}

std::vector<model_row> catalogue_rows(const std::vector<listed_model>& listed, const provider_config& cfg)
{
    std::vector<model_row> rows;
    for (const auto& m : listed)
    {
        model_row row;
        row.id = m.id;
        if (const auto* info = cfg.find_model(m.id))
        {
            row.in_catalogue = true;
            row.context_window = info->context_window;
            row.max_output_tokens = info->max_output_tokens;
        }
        else
        {
            row.context_window = m.context_window;
            row.max_output_tokens = m.max_output_tokens;
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<std::string> catalogue_models_not_listed(const std::vector<listed_model>& listed,
                                                     const provider_config& cfg)
{
    std::set<std::string> ids;
    for (const auto& m : listed)
        ids.insert(m.id);
    std::vector<std::string> out;
    for (const auto& m : cfg.models)
        if (!ids.count(m.id))
            out.push_back(m.id);
    return out;
}

}  // namespace ep::providers
