// ep-serve's request reading on arbitrary bytes: the bytes are one raw HTTP/1.1 request, fed
// through Beast's request_parser with the limits ep-serve sets (limit_request_parser), and a
// request it accepts goes through every reader of ep-serve that a request meets before any
// handler does work: the target's path and query (parse_request_target), GET /v1/runs's query,
// the JSON bodies of POST /v1/runs, resume, approve/reject, fork and /v1/chat/completions,
// x-ep-mix, Last-Event-ID (event_cursor) and the bearer token (token_auth).
// Checked: no crash, no exception, no sanitizer report; every reader accepts with a value or
// refuses with a message; a cursor's id() reads back as the same cursor; only the configured
// token authenticates; a fork input's KEY=VALUE splits back into its own key.
#include "api/api_common.hpp"
#include "api/event_cursor.hpp"
#include "api/openai_format.hpp"
#include "api/run_requests.hpp"
#include "http/request_reading.hpp"
#include "security/access.hpp"

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

namespace srv = ep::server;
namespace http = boost::beast::http;

constexpr std::string_view configured_token = "ep-fuzz-token-0123456789";

void check(bool invariant)
{
    if (!invariant)
        std::abort();
}

template <class T>
void check_read(const srv::read_result<T>& r)
{
    check(r.value.has_value() == r.error.empty());  // accepted with values xor refused with a reason
}

// Parses like the listener: the whole input is what the client sent before closing.
std::optional<srv::request> parse_http(std::string_view bytes)
{
    http::request_parser<http::string_body> parser;
    srv::limit_request_parser(parser, srv::server_config{});
    parser.eager(true);
    boost::system::error_code ec;
    while (!bytes.empty() && !parser.is_done())
    {
        const auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec == http::error::need_more)
            break;  // the rest would have arrived later: no more bytes, so no request
        if (ec)
            return std::nullopt;
        if (used == 0)
            break;
        bytes.remove_prefix(used);
    }
    if (!parser.is_done())
    {
        if (!parser.got_some())
            return std::nullopt;  // nothing sent: the listener sees end_of_stream, no request
        parser.put_eof(ec);  // a body delimited by the end of the connection
        if (ec || !parser.is_done())
            return std::nullopt;
    }
    return parser.release();
}

void read_bodies(const srv::request& req)
{
    for (bool empty_is_object : {false, true})
    {
        auto body = srv::parse_json_object(req, empty_is_object);
        check(body.value.has_value() == body.error.empty());
        if (!body.value)
            continue;
        const auto& b = *body.value;
        check_read(srv::read_run_submission(b));
        check_read(srv::read_resume(b));
        check_read(srv::read_gate_decision(b, true));
        auto fork = srv::read_fork(b);
        check_read(fork);
        if (fork.value)
            for (const auto& kv : fork.value->fork.inputs)
                check(b["inputs"].contains(kv.substr(0, kv.find('='))));
        auto chat = srv::parse_chat_request(b);
        if (auto* p = std::get_if<srv::request_problem>(&chat))
            check(!p->message.empty());
    }
}

void read_headers(const srv::request& req, const std::map<std::string, std::string>& query)
{
    if (auto h = req.find("x-ep-mix"); h != req.end())
        (void)srv::is_allowed_mix(h->value());
    if (const auto last = srv::last_event_id(req, query); !last.empty())
        if (auto cursor = srv::event_cursor::parse(last))
        {
            auto again = srv::event_cursor::parse(cursor->id());
            check(again && again->id() == cursor->id());
        }
    static const srv::token_auth auth({std::string(configured_token)});
    if (auto h = req.find(http::field::authorization); h != req.end())
        if (auto who = auth.authenticate(h->value()))
        {
            // Only "Bearer <the token>" (scheme in any case, blanks around the token) gets in.
            auto token = std::string_view(h->value()).substr(7);
            while (!token.empty() && (token.front() == ' ' || token.front() == '\t' || token.front() == '\r'))
                token.remove_prefix(1);
            while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r'))
                token.remove_suffix(1);
            check(*who == "token:1" && token == configured_token);
        }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto req = parse_http(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!req)
        return 0;
    auto target = srv::parse_request_target(req->target());
    const std::map<std::string, std::string> no_query;
    if (target)
        check_read(srv::read_run_list_query(target->query));
    read_headers(*req, target ? target->query : no_query);
    read_bodies(*req);
    return 0;
}
