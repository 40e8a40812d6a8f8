#pragma once
// Test harness for ep-serve in-process: the emulator on its own threads as every provider's
// upstream, a runtime and a server on an io_context in a background thread, and a blocking
// HTTP/1.1 client (Beast) on the test's thread — real sockets on loopback all the way.

#include "server_impl.hpp"

#include <ep/cli/commands.hpp>
#include <ep/emulator/emulator.hpp>
#include <ep/server/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace ep::server::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;
using namespace std::chrono_literals;

struct http_result
{
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    json body_json() const { return json::parse(body, nullptr, false); }
    std::string header(const std::string& name) const
    {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

inline std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// One request on a fresh connection.
inline http_result http_call(std::uint16_t port, http::verb method, const std::string& target, const std::string& body = {},
                             const std::map<std::string, std::string>& headers = {})
{
    asio::io_context ioc;
    asio::ip::tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers)
        req.set(k, v);
    if (!body.empty() || method == http::verb::post)
    {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
    }
    http::write(sock, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(sock, buf, parser);
    http_result out;
    out.status = parser.get().result_int();
    for (const auto& f : parser.get())
        out.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    out.body = parser.get().body();
    return out;
}

inline http_result get(std::uint16_t port, const std::string& target, const std::map<std::string, std::string>& h = {})
{
    return http_call(port, http::verb::get, target, {}, h);
}

inline http_result post(std::uint16_t port, const std::string& target, const json& body,
                        const std::map<std::string, std::string>& h = {})
{
    return http_call(port, http::verb::post, target, body.dump(), h);
}

/// A Server-Sent Events reader over a blocking socket.
class sse_client
{
public:
    struct event
    {
        std::string id;
        json data;
    };

    sse_client(std::uint16_t port, const std::string& target, const std::map<std::string, std::string>& headers = {})
        : sock_(ioc_)
    {
        sock_.connect({asio::ip::make_address("127.0.0.1"), port});
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::accept, "text/event-stream");
        for (const auto& [k, v] : headers)
            req.set(k, v);
        http::write(sock_, req);
        parser_.body_limit(256u << 20);
        http::read_header(sock_, buf_, parser_);
        status_ = parser_.get().result_int();
        for (const auto& f : parser_.get())
            headers_[lower(std::string(f.name_string()))] = std::string(f.value());
    }

    unsigned status() const { return status_; }
    const std::map<std::string, std::string>& headers() const { return headers_; }

    /// The next event (comments counted in heartbeats()); nullopt at the end of the stream.
    std::optional<event> next()
    {
        for (;;)
        {
            auto& body = parser_.get().body();
            const auto end = body.find("\n\n", pos_);
            if (end != std::string::npos)
            {
                const std::string block = body.substr(pos_, end - pos_);
                pos_ = end + 2;
                event e;
                bool has_data = false;
                std::istringstream lines(block);
                for (std::string line; std::getline(lines, line);)
                {
                    if (line.rfind(":", 0) == 0)
                        ++heartbeats_;
                    else if (line.rfind("id: ", 0) == 0)
                        e.id = line.substr(4);
                    else if (line.rfind("data: ", 0) == 0)
                    {
                        e.data = json::parse(line.substr(6), nullptr, false);
                        has_data = true;
                    }
                }
                if (has_data)
                    return e;
                continue;
            }
            if (parser_.is_done())
                return std::nullopt;
            beast::error_code ec;
            http::read_some(sock_, buf_, parser_, ec);
            if (ec)
                return std::nullopt;
        }
    }

    int heartbeats() const { return heartbeats_; }
    void close()
    {
        beast::error_code ec;
        sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        sock_.close(ec);
    }

private:
    asio::io_context ioc_;
    asio::ip::tcp::socket sock_;
    beast::flat_buffer buf_;
    http::response_parser<http::string_body> parser_;
    std::size_t pos_ = 0;
    unsigned status_ = 0;
    std::map<std::string, std::string> headers_;
    int heartbeats_ = 0;
};

inline std::filesystem::path fresh_dir(const std::string& prefix)
{
    std::random_device rd;
    auto d = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(d);
    return d;
}

/// The emulator, a runtime and a server on a background io_context thread.
class server_harness
{
public:
    struct options
    {
        server_config server;
        emulator::emulator_config emulator;
        std::map<std::string, std::string> env;  // added to the emulated environment
        std::filesystem::path db;                // empty: a fresh directory
        std::string owner;                       // lease identity
        bool with_emulator = true;
    };

    explicit server_harness(options o) : dir_(fresh_dir("ep-serve-test-"))
    {
        o.server.listen = o.server.listen == "127.0.0.1:8080" ? "127.0.0.1:0" : o.server.listen;
        if (o.with_emulator)
        {
            emu_ = std::make_unique<emulator::emulator>(o.emulator);
            emu_->start();
        }
        ep::environment env = emu_ ? cli::emulated_environment(ep::environment::from_map({}), emu_->base_url())
                                   : ep::environment::from_map({});
        for (const auto& [k, v] : o.env)
            env.set(k, v);
        runtime::runtime_config rc;
        rc.env = env;
        rc.workflows_dir = std::filesystem::path(EP_SOURCE_DIR) / "workflows";
        rc.store = (o.db.empty() ? dir_ / "runs.db" : o.db).string();
        rc.program = "ep-serve";
        rc.logger = std::make_shared<spdlog::logger>("ep-serve-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
        rc.logger->set_level(spdlog::level::info);
        rc.executor.owner = o.owner.empty() ? "ep-serve-test@" + dir_.filename().string() : o.owner;
        rt_ = std::make_unique<runtime::runtime>(ioc_.get_executor(), rc);
        srv_ = std::make_unique<server>(ioc_, *rt_, o.server);
        std::promise<std::optional<start_error>> started;
        auto fut = started.get_future();
        asio::co_spawn(ioc_, srv_->start(), [&](std::exception_ptr e, std::optional<start_error> r) {
            if (e)
                r = start_error{"exception"};
            started.set_value(r);
        });
        thread_ = std::thread([this] { ioc_.run(); });
        start_error_ = fut.get();
    }

    ~server_harness()
    {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    /// Graceful stop (as on SIGTERM), then the thread ends.
    void stop()
    {
        if (!thread_.joinable())
            return;
        std::promise<void> done;
        auto fut = done.get_future();
        asio::co_spawn(ioc_, srv_->stop(), [&](std::exception_ptr) { done.set_value(); });
        fut.wait_for(30s);
        guard_.reset();
        thread_.join();
    }

    /// A crash: the loop stops where it is (runs stay `running` in the store with our lease).
    void crash()
    {
        if (!thread_.joinable())
            return;
        ioc_.stop();
        thread_.join();
    }

    /// Runs `fn` on the server's thread and returns its result (for inspecting server state).
    template <class F>
    auto on_server(F fn)
    {
        std::promise<decltype(fn())> p;
        auto fut = p.get_future();
        asio::post(ioc_, [&] { p.set_value(fn()); });
        return fut.get();
    }

    const std::optional<start_error>& start_error_message() const { return start_error_; }
    std::uint16_t port() const { return srv_->port(); }
    server& srv() { return *srv_; }
    emulator::emulator& emu() { return *emu_; }
    std::string log() const { return log_.str(); }
    const std::filesystem::path& dir() const { return dir_; }

    /// Polls GET /v1/runs/ID until its status is `status` (or `timeout`).
    json wait_for_status(const std::string& run_id, const std::string& status, std::chrono::milliseconds timeout = 30s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        json last;
        while (std::chrono::steady_clock::now() < deadline)
        {
            auto r = get(port(), "/v1/runs/" + run_id);
            last = r.body_json();
            if (r.status == 200 && last.value("status", "") == status && !last.value("live", true))
                return last;
            std::this_thread::sleep_for(20ms);
        }
        ADD_FAILURE() << "run " << run_id << " did not reach " << status << "; last: " << last.dump();
        return last;
    }

private:
    std::filesystem::path dir_;
    std::ostringstream log_;
    std::unique_ptr<emulator::emulator> emu_;
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{ioc_.get_executor()};
    std::unique_ptr<runtime::runtime> rt_;
    std::unique_ptr<server> srv_;
    std::thread thread_;
    std::optional<start_error> start_error_;
};

}  // namespace ep::server::test
