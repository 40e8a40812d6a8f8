// One HTTP/1.1 connection: read requests (keep-alive), route them, answer in the wire format
// of the endpoint, pace the stream, and misbehave exactly as the chosen fault says.

#include "server_core.hpp"

#include "answer.hpp"
#include "http_util.hpp"
#include "model_list.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <type_traits>

namespace ep::emulator::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;
using request = http::request<http::string_body>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto idle_request_timeout = std::chrono::minutes(5);
constexpr auto handshake_timeout = std::chrono::seconds(30);

// What to do with the connection after a response.
enum class after
{
    keep_alive,
    close,
};

template <typename Stream>
class session : public std::enable_shared_from_this<session<Stream>>
{
public:
    session(std::shared_ptr<server_core> core, Stream stream, std::uint64_t id)
        : core_(std::move(core)), stream_(std::move(stream)), timer_(stream_.get_executor()), id_(id)
    {
    }

    // Runs on the connection's strand, posted by stop(): ends every pending operation.
    void close()
    {
        closed_ = true;
        timer_.cancel();
        beast::error_code ec;
        beast::get_lowest_layer(stream_).socket().close(ec);
    }

    asio::awaitable<void> run()
    {
        constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
        if constexpr (tls)
        {
            beast::get_lowest_layer(stream_).expires_after(handshake_timeout);
            auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
            if (ec)
            {
                core_->log->debug("emulator: TLS handshake failed: {}", ec.message());
                co_return;
            }
        }
        beast::flat_buffer buffer;
        while (!closed_)
        {
            http::request_parser<http::string_body> parser;
            parser.body_limit(core_->config.max_request_bytes);
            beast::get_lowest_layer(stream_).expires_after(idle_request_timeout);
            auto [ec, n] = co_await http::async_read(stream_, buffer, parser, tuple_awaitable);
            beast::get_lowest_layer(stream_).expires_never();
            if (ec == http::error::body_limit)
            {
                co_await write_simple(413, "application/json",
                                      R"({"error":{"message":"request body too large","type":"invalid_request_error"}})",
                                      {}, false, false);
                break;
            }
            if (ec)
                break;
            auto req = parser.release();
            if (co_await handle(req) == after::close || !req.keep_alive())
                break;
        }
        if (!closed_)
        {
            beast::error_code ec;
            beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        }
    }

private:
    using headers_t = std::vector<std::pair<std::string, std::string>>;

    // ---- routing ---------------------------------------------------------------------

    asio::awaitable<after> handle(const request& req)
    {
        auto target = split_target(req.target());
        const auto& path = target.path;
        bool head = req.method() == http::verb::head;

        if (path == "/" || path.empty())
        {
            if (req.method() != http::verb::get && !head)
                co_return co_await method_not_allowed(req, "GET, HEAD");
            record(req, "probe", {}, {}, false, {}, 200);
            co_return co_await write_simple(200, "text/plain", std::string(emulator_label) + " (not a real LLM provider)\n",
                                            {}, req.keep_alive(), head);
        }
        if (path.starts_with("/_emulator/"))
            co_return co_await handle_admin(req, path);
        if (auto list = model_list_reply(req, target))
        {
            record(req, "models", {}, {}, false, {}, list->status);
            co_return co_await write_reply_whole(*list, req.keep_alive());
        }
        if (path == "/v1/chat/completions")
        {
            if (req.method() != http::verb::post)
                co_return co_await method_not_allowed(req, "POST");
            co_return co_await handle_chat(req, *core_->openai, {}, false, true);
        }
        if (path == "/v1/responses")
        {
            if (req.method() != http::verb::post)
                co_return co_await method_not_allowed(req, "POST");
            co_return co_await handle_chat(req, *core_->responses, {}, false, true);
        }
        if (path == "/v1/messages")
        {
            if (req.method() != http::verb::post)
                co_return co_await method_not_allowed(req, "POST");
            co_return co_await handle_chat(req, *core_->anthropic, {}, false, true);
        }
        for (std::string_view prefix : {"/v1beta/models/", "/v1/models/"})
        {
            if (!path.starts_with(prefix))
                continue;
            if (req.method() != http::verb::post)
                co_return co_await method_not_allowed(req, "POST");
            auto rest = path.substr(prefix.size());
            auto colon = rest.rfind(':');
            auto method = colon == std::string::npos ? std::string() : rest.substr(colon + 1);
            if (method != "generateContent" && method != "streamGenerateContent")
                break;
            bool sse = target.query_has("alt", "sse");
            co_return co_await handle_chat(req, *core_->gemini, rest.substr(0, colon),
                                           method == "streamGenerateContent", sse);
        }
        auto r = core_->openai->error(404, error_reason::not_found,
                                      "Unknown path " + path + " (" + emulator_label + ")");
        co_return co_await write_reply_whole(r, req.keep_alive());
    }

    asio::awaitable<after> method_not_allowed(const request& req, const char* allow)
    {
        auto r = core_->openai->error(405, error_reason::bad_request, "Method not allowed");
        r.headers.emplace_back("Allow", allow);
        co_return co_await write_reply_whole(r, req.keep_alive());
    }

    // ---- admin -----------------------------------------------------------------------

    asio::awaitable<after> handle_admin(const request& req, const std::string& path)
    {
        auto verb = req.method();
        json body;
        unsigned status = 200;
        if (path == "/_emulator/requests" && verb == http::verb::get)
        {
            body = {{"emulator", emulator_label}, {"requests", json::array()}};
            for (const auto& r : core_->state.requests())
                body["requests"].push_back(r.to_json());
        }
        else if (path == "/_emulator/stats" && verb == http::verb::get)
        {
            body = core_->state.stats().to_json();
            body["emulator"] = emulator_label;
        }
        else if (path == "/_emulator/reset" && verb == http::verb::post)
        {
            core_->state.reset();
            body = {{"emulator", emulator_label}, {"reset", true}};
        }
        else if (path == "/_emulator/faults" && verb == http::verb::get)
            body = {{"emulator", emulator_label}, {"rules", core_->state.rules_json()}};
        else if (path == "/_emulator/faults" && verb == http::verb::delete_)
        {
            core_->state.clear_rules();
            body = {{"emulator", emulator_label}, {"rules", 0}};
        }
        else if (path == "/_emulator/faults" && verb == http::verb::post)
        {
            std::string error;
            auto rules = parse_fault_rules(req.body(), error);
            if (!rules)
            {
                status = 400;
                body = {{"error", {{"message", error}, {"type", "invalid_request_error"}}}};
            }
            else
            {
                for (auto& r : *rules)
                    core_->state.add_rule(std::move(r));
                body = {{"emulator", emulator_label}, {"rules", core_->state.rule_count()}};
            }
        }
        else
        {
            status = 404;
            body = {{"error", {{"message", "unknown emulator admin endpoint " + path}, {"type", "not_found"}}}};
        }
        co_return co_await write_simple(status, "application/json", dump(body), {}, req.keep_alive(), false);
    }

    // ---- chat endpoints --------------------------------------------------------------

    asio::awaitable<after> handle_chat(const request& req, const wire_protocol& proto, std::string gemini_model,
                                       bool gemini_stream, bool sse)
    {
        auto body = json::parse(req.body(), nullptr, false);
        chat_call call;
        call.protocol = std::string(proto.name());
        if (proto.name() == "gemini")
        {
            call.model = gemini_model;
            call.stream = gemini_stream;
        }
        std::string error;
        if (body.is_discarded())
            error = "the request body is not valid JSON";
        else if (!proto.parse(body, call, error))
        {
        }
        auto persona = detect_persona(header(req, "x-ep-persona"), call.system);
        if (!error.empty())
        {
            record(req, call.protocol, call.model, persona, call.stream, {}, 400);
            co_return co_await write_reply_whole(proto.error(400, error_reason::bad_request, error), req.keep_alive());
        }

        auto choice = core_->state.choose_fault(header(req, "x-ep-emulator-fault"), call.model, call.protocol, persona);
        if (!choice.error.empty())
        {
            record(req, call.protocol, call.model, persona, call.stream, {}, 400);
            co_return co_await write_reply_whole(proto.error(400, error_reason::bad_request, choice.error),
                                                 req.keep_alive());
        }
        fault_spec fault = choice.fault.value_or(fault_spec{});
        std::string fault_text = choice.fault ? fault.to_string() : std::string();
        if (choice.fault)
            core_->log->info("emulator: {} request for model '{}' gets fault {}", call.protocol, call.model, fault_text);

        switch (fault.kind)
        {
        case fault_kind::reset_before_headers:
            record(req, call.protocol, call.model, persona, call.stream, fault_text, 0);
            reset_connection();
            co_return after::close;
        case fault_kind::no_response:
            record(req, call.protocol, call.model, persona, call.stream, fault_text, 0);
            co_await wait_until_closed();
            co_return after::close;
        case fault_kind::http_status:
        case fault_kind::context_length:
        {
            bool ctx = fault.kind == fault_kind::context_length;
            unsigned status = ctx ? 400 : fault.status;
            auto r = proto.error(status, ctx ? error_reason::context_length : error_reason::status,
                                 std::string("Emulated HTTP ") + std::to_string(status) + " (" + emulator_label + ")");
            add_retry_hints(r, fault, proto);
            record(req, call.protocol, call.model, persona, call.stream, fault_text, status);
            co_return co_await write_reply_whole(r, req.keep_alive());
        }
        case fault_kind::slow_first_token:
            if (!co_await sleep(std::chrono::milliseconds(fault.delay_ms)))
                co_return after::close;
            break;
        case fault_kind::late_first_content:
            if (!call.stream && !co_await sleep(std::chrono::milliseconds(fault.delay_ms)))
                co_return after::close;  // a whole body is its first content
            break;
        default: break;
        }

        auto a = make_answer(call, persona);
        note_prompt_cache(call, a);
        response_ids ids{proto.id_prefix() + hex_id(a.seed, core_->response_counter++),
                         std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()};
        auto r = proto.respond(call, a, fault.kind == fault_kind::content_filter ? ending::content_filter : ending::normal,
                               ids);
        record(req, call.protocol, call.model, persona, call.stream, fault_text, r.status);
        if (!r.sse)
            co_return co_await write_whole_with_fault(r, fault, req.keep_alive());
        if (!sse)  // Gemini without alt=sse: one JSON array, as the real server sends
            co_return co_await write_whole_with_fault(as_json_array(r), fault, req.keep_alive());
        co_return co_await write_stream(r, fault, proto, req.keep_alive());
    }

    // Anthropic caches prefixes of at least 1,024 tokens: the first request writes the cache,
    // later ones with the same prefix read it.
    void note_prompt_cache(const chat_call& call, answer& a)
    {
        constexpr int min_cached_tokens = 1024;
        if (call.cached_prefix_chars == 0)
            return;
        const int tokens = std::min(estimate_tokens(call.cached_prefix_chars), a.input_tokens);
        if (tokens < min_cached_tokens)
            return;
        if (core_->state.remember_prefix(call.cached_prefix_hash))
            a.cache_read_tokens = tokens;
        else
            a.cache_creation_tokens = tokens;
    }

    static void add_retry_hints(reply& r, const fault_spec& fault, const wire_protocol& proto)
    {
        if (fault.retry_after_s)
            r.headers.emplace_back("Retry-After", std::to_string(*fault.retry_after_s));
        if (fault.retry_after_ms)
            r.headers.emplace_back("retry-after-ms", std::to_string(*fault.retry_after_ms));
        if (proto.name() == "gemini" && (fault.retry_after_s || fault.retry_after_ms))
        {
            // Gemini puts its hint in the body (google.rpc.RetryInfo), not in a header.
            auto body = json::parse(r.body, nullptr, false);
            double seconds = fault.retry_after_s ? *fault.retry_after_s : *fault.retry_after_ms / 1000.0;
            auto delay = fmt::format("{}s", seconds);
            body["error"]["details"] = json::array(
                {{{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", delay}}});
            r.body = dump(body);
        }
    }

    static reply as_json_array(const reply& r)
    {
        reply out;
        out.status = r.status;
        out.headers = r.headers;
        out.body = "[";
        bool first = true;
        for (const auto& ev : r.events)
        {
            auto start = ev.bytes.find("data: ");
            auto json_text = ev.bytes.substr(start + 6);
            while (!json_text.empty() && (json_text.back() == '\n' || json_text.back() == '\r'))
                json_text.pop_back();
            out.body += (first ? "" : ",\r\n") + json_text;
            first = false;
        }
        out.body += "]";
        return out;
    }

    // ---- writing ---------------------------------------------------------------------

    asio::awaitable<after> write_simple(unsigned status, std::string_view content_type, std::string body,
                                        const headers_t& extra, bool keep_alive, bool head_only)
    {
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        add_common_headers(res, extra);
        res.set(http::field::content_type, content_type);
        res.keep_alive(keep_alive);
        res.body() = std::move(body);
        res.prepare_payload();
        if (head_only)
            res.body().clear();  // content-length still tells the size, as HEAD requires
        http::response_serializer<http::string_body> sr{res};
        if (head_only)
        {
            auto [ec, n] = co_await http::async_write_header(stream_, sr, tuple_awaitable);
            co_return ec || !keep_alive ? after::close : after::keep_alive;
        }
        auto [ec, n] = co_await http::async_write(stream_, sr, tuple_awaitable);
        co_return ec || !keep_alive ? after::close : after::keep_alive;
    }

    asio::awaitable<after> write_reply_whole(const reply& r, bool keep_alive)
    {
        co_return co_await write_simple(r.status, "application/json", r.body, r.headers, keep_alive, false);
    }

    // A non-streamed body under a fault: stream-shaped faults become a truncated, stalled or
    // unparsable body.
    asio::awaitable<after> write_whole_with_fault(const reply& r, const fault_spec& fault, bool keep_alive)
    {
        switch (fault.kind)
        {
        case fault_kind::cut_stream:
        case fault_kind::missing_terminal:
        case fault_kind::stall:
        case fault_kind::overloaded:
        {
            http::response<http::empty_body> res{static_cast<http::status>(r.status), 11};
            add_common_headers(res, r.headers);
            res.set(http::field::content_type, "application/json");
            res.content_length(r.body.size());
            http::response_serializer<http::empty_body> sr{res};
            auto [ec, n] = co_await http::async_write_header(stream_, sr, tuple_awaitable);
            if (ec)
                co_return after::close;
            auto half = r.body.substr(0, r.body.size() / 2);
            auto [ec2, n2] = co_await asio::async_write(stream_, asio::buffer(half), tuple_awaitable);
            if (!ec2 && fault.kind == fault_kind::stall)
                co_await wait_until_closed();
            else
                close_connection();
            co_return after::close;
        }
        case fault_kind::malformed_event:
            co_return co_await write_simple(r.status, "application/json", r.body.substr(0, r.body.size() / 2) + "\n",
                                            r.headers, keep_alive, false);
        default:
            co_return co_await write_simple(r.status, "application/json", r.body, r.headers, keep_alive, false);
        }
    }

    asio::awaitable<after> write_stream(reply r, const fault_spec& fault, const wire_protocol& proto, bool keep_alive)
    {
        if (fault.kind == fault_kind::missing_terminal)
            std::erase_if(r.events, [](const sse_event& e) { return e.terminal; });

        http::response<http::empty_body> res{static_cast<http::status>(r.status), 11};
        add_common_headers(res, r.headers);
        res.set(http::field::content_type, "text/event-stream; charset=utf-8");
        res.set(http::field::cache_control, "no-cache");
        res.set("X-Accel-Buffering", "no");
        res.keep_alive(keep_alive);
        res.chunked(true);
        http::response_serializer<http::empty_body> sr{res};
        if (auto [ec, n] = co_await http::async_write_header(stream_, sr, tuple_awaitable); ec)
            co_return after::close;

        // Where a stream fault strikes; never after the terminal event, so a cut or stalled
        // stream always lacks its end marker.
        std::size_t strike = r.events.size();
        bool stream_fault = fault.kind == fault_kind::cut_stream || fault.kind == fault_kind::stall ||
                            fault.kind == fault_kind::overloaded || fault.kind == fault_kind::malformed_event;
        if (stream_fault)
        {
            strike = static_cast<std::size_t>(std::max(0, fault.after_events));
            if (fault.kind != fault_kind::malformed_event && !r.events.empty())
                strike = std::min(strike, r.events.size() - 1);
        }

        bool first_content = true;
        bool held_back = false;
        for (std::size_t i = 0; i <= r.events.size(); ++i)
        {
            if (i == strike)
            {
                if (fault.kind == fault_kind::cut_stream)
                {
                    close_connection();
                    co_return after::close;
                }
                if (fault.kind == fault_kind::stall && fault.stall_ms)
                {
                    // Silent for a while, then the connection closes: the stream is cut.
                    if (co_await sleep(std::chrono::milliseconds(*fault.stall_ms)))
                        close_connection();
                    co_return after::close;
                }
                if (fault.kind == fault_kind::stall)
                {
                    co_await wait_until_closed();
                    co_return after::close;
                }
                if (fault.kind == fault_kind::overloaded)
                {
                    if (!co_await write_chunk(proto.overloaded_event()))
                        co_return after::close;
                    break;  // nothing follows an in-stream error
                }
                if (fault.kind == fault_kind::malformed_event && !co_await write_chunk(proto.malformed_event()))
                    co_return after::close;
            }
            if (i == r.events.size())
                break;
            const auto& ev = r.events[i];
            if ((ev.content || ev.opens_content) && !held_back && fault.kind == fault_kind::late_first_content)
            {
                held_back = true;  // everything before the answer's first event went out at once
                if (!co_await sleep(std::chrono::milliseconds(fault.delay_ms)))
                    co_return after::close;
            }
            else if (ev.content && !core_->config.zero_latency)
            {
                auto delay = first_content ? core_->config.time_to_first_token : token_interval();
                if (!co_await sleep(delay))
                    co_return after::close;
            }
            if (ev.content)
                first_content = false;
            if (!co_await write_chunk(ev.bytes))
                co_return after::close;
        }
        auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), tuple_awaitable);
        co_return ec || !keep_alive ? after::close : after::keep_alive;
    }

    asio::awaitable<bool> write_chunk(const std::string& bytes)
    {
        auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk(asio::buffer(bytes)), tuple_awaitable);
        co_return !ec;
    }

    template <typename Body>
    static void add_common_headers(http::response<Body>& res, const headers_t& extra)
    {
        res.set(http::field::server, "ep-emulator");
        res.set("x-ep-emulator", emulator_label);
        for (const auto& [k, v] : extra)
            res.set(k, v);
    }

    // ---- timing and connection control ----------------------------------------------

    std::chrono::milliseconds token_interval() const
    {
        double tps = core_->config.tokens_per_second;
        if (tps <= 0)
            return std::chrono::milliseconds(0);
        return std::chrono::milliseconds(static_cast<std::int64_t>(1000.0 / tps));
    }

    // False when the connection was closed (stop()) while waiting.
    asio::awaitable<bool> sleep(std::chrono::milliseconds d)
    {
        if (d.count() <= 0)
            co_return !closed_;
        timer_.expires_after(d);
        auto [ec] = co_await timer_.async_wait(tuple_awaitable);
        co_return !ec && !closed_;
    }

    // Keeps the socket open without answering until the peer (or stop()) closes it.
    asio::awaitable<void> wait_until_closed()
    {
        auto& sock = beast::get_lowest_layer(stream_).socket();
        char scratch[1024];
        while (!closed_)
        {
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(scratch), tuple_awaitable);
            if (ec)
                break;
        }
    }

    // A clean TCP close (FIN) in the middle of a message: the peer reads every byte sent so
    // far, then end of stream without the message's end (a "cut" stream).
    void close_connection()
    {
        auto& sock = beast::get_lowest_layer(stream_).socket();
        beast::error_code ec;
        sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        sock.close(ec);
        closed_ = true;
    }

    // SO_LINGER 0 + close: the peer sees a TCP reset, not a clean end of stream.
    void reset_connection()
    {
        auto& sock = beast::get_lowest_layer(stream_).socket();
        beast::error_code ec;
        sock.set_option(asio::socket_base::linger(true, 0), ec);
        sock.close(ec);
        closed_ = true;
    }

    // ---- request log -----------------------------------------------------------------

    void record(const request& req, const std::string& protocol, const std::string& model, const std::string& persona,
                bool stream, const std::string& fault, unsigned status)
    {
        request_record r;
        r.time = std::chrono::system_clock::now();
        r.method = std::string(req.method_string());
        r.protocol = protocol;
        r.path = redact_target(req.target());
        r.model = model;
        r.persona = persona;
        r.stream = stream;
        r.fault = fault;
        r.status = status;
        r.headers = redacted_headers(req);
        r.body = req.body();
        core_->state.record(std::move(r));
    }

    std::shared_ptr<server_core> core_;
    Stream stream_;
    asio::steady_timer timer_;
    std::uint64_t id_;
    bool closed_ = false;
};

template <typename Stream>
void launch(std::shared_ptr<server_core> core, Stream stream)
{
    auto id = core->next_connection_id();
    auto exec = beast::get_lowest_layer(stream).get_executor();
    auto s = std::make_shared<session<Stream>>(core, std::move(stream), id);
    std::weak_ptr<session<Stream>> weak = s;
    auto closer = [weak, exec] {
        asio::post(exec, [weak] {
            if (auto p = weak.lock())
                p->close();
        });
    };
    if (!core->add_connection(id, closer))
        return;  // stopping: the socket closes with `s`
    asio::co_spawn(exec, s->run(), [core, id, s](std::exception_ptr e) {
        core->remove_connection(id);
        if (e)
        {
            try
            {
                std::rethrow_exception(e);
            }
            catch (const std::exception& ex)
            {
                core->log->error("emulator: connection failed: {}", ex.what());
            }
        }
    });
}

}  // namespace

void start_session(std::shared_ptr<server_core> core, asio::ip::tcp::socket socket)
{
    beast::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);  // else Nagle + delayed ACK add ~40 ms
    if (core->ssl)
    {
        auto& ctx = *core->ssl;
        launch(core, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), ctx));
    }
    else
        launch(core, beast::tcp_stream(std::move(socket)));
}

}  // namespace ep::emulator::detail
