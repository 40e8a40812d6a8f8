#pragma once
// A loopback OTLP/HTTP receiver for tests: accepts POST /v1/traces (JSON) on 127.0.0.1:PORT in
// its own thread and keeps every span it received.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ep::server::test {

class otlp_receiver
{
public:
    otlp_receiver() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0})
    {
        thread_ = std::thread([this] { serve(); });
    }
    ~otlp_receiver()
    {
        stop_ = true;
        boost::system::error_code ec;
        // Wake the blocking accept with a connection of our own.
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

    /// Every span received so far (OTLP JSON Span objects), plus the raw bodies.
    std::vector<nlohmann::json> spans() const
    {
        std::lock_guard lock(mutex_);
        return spans_;
    }
    std::string raw() const
    {
        std::lock_guard lock(mutex_);
        return raw_;
    }
    std::vector<std::string> paths() const
    {
        std::lock_guard lock(mutex_);
        return paths_;
    }

    /// Waits until `pred(spans())` holds (or `timeout`).
    template <class Pred>
    bool wait_for(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(15)) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline)
        {
            if (pred(spans()))
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return pred(spans());
    }

private:
    void serve()
    {
        namespace http = boost::beast::http;
        while (!stop_)
        {
            boost::system::error_code ec;
            boost::asio::ip::tcp::socket sock(ioc_);
            acceptor_.accept(sock, ec);
            if (ec || stop_)
                continue;
            boost::beast::flat_buffer buf;
            for (;;)
            {
                http::request<http::string_body> req;
                http::read(sock, buf, req, ec);
                if (ec)
                    break;
                auto body = nlohmann::json::parse(req.body(), nullptr, false);
                {
                    std::lock_guard lock(mutex_);
                    raw_ += req.body();
                    paths_.emplace_back(req.target());
                    if (body.is_object())
                        for (const auto& rs : body.value("resourceSpans", nlohmann::json::array()))
                            for (const auto& ss : rs.value("scopeSpans", nlohmann::json::array()))
                                for (const auto& sp : ss.value("spans", nlohmann::json::array()))
                                {
                                    auto s = sp;
                                    s["_resource"] = rs.value("resource", nlohmann::json::object());
                                    spans_.push_back(std::move(s));
                                }
                }
                http::response<http::string_body> res{http::status::ok, req.version()};
                res.set(http::field::content_type, "application/json");
                res.body() = "{}";
                res.keep_alive(req.keep_alive());
                res.prepare_payload();
                http::write(sock, res, ec);
                if (ec || !req.keep_alive())
                    break;
            }
        }
    }

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<nlohmann::json> spans_;
    std::string raw_;
    std::vector<std::string> paths_;
};

/// The value of attribute `key` of an OTLP span (string, int as string, or double), or null.
inline nlohmann::json span_attr(const nlohmann::json& span, const std::string& key)
{
    for (const auto& a : span.value("attributes", nlohmann::json::array()))
        if (a["key"] == key)
        {
            const auto& v = a["value"];
            if (v.contains("stringValue"))
                return v["stringValue"];
            if (v.contains("intValue"))
                return v["intValue"];
            if (v.contains("doubleValue"))
                return v["doubleValue"];
        }
    return nullptr;
}

}  // namespace ep::server::test
