// The loopback fake LLM server, the test PKI and the CONNECT proxy.

#include "fake_llm_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace ep::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

const char* reason(int status)
{
    switch (status)
    {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 529: return "Overloaded";
    default: return "Status";
    }
}

std::string hex(std::size_t n)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return buf;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    if (d.count() <= 0)
        co_return;
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_tuple);
}

asio::awaitable<void> sleep_forever()
{
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await t.async_wait(use_tuple);
}

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(asio::ssl::stream<tcp::socket>& s) { return s.next_layer(); }

}  // namespace

// ---- fake_response / recorded_request ----------------------------------------------------

fake_response fake_response::sse(std::vector<std::string> events)
{
    fake_response r;
    for (auto& e : events)
        r.chunks.push_back(std::move(e) + "\n\n");
    return r;
}

fake_response fake_response::json_error(int status, std::string body, header_pairs extra)
{
    fake_response r;
    r.status = status;
    r.headers = std::move(extra);
    r.headers.emplace_back("Content-Type", "application/json");
    r.chunks.push_back(std::move(body));
    r.chunked = false;
    return r;
}

const std::string* recorded_request::header(std::string_view name) const
{
    for (const auto& [k, v] : headers)
        if (iequals(k, name))
            return &v;
    return nullptr;
}

// ---- fake_llm_server -----------------------------------------------------------------------

struct fake_llm_server::impl
{
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::shared_ptr<asio::ssl::context> tls;
    fake_llm_server* owner = nullptr;

    mutable std::mutex mutex;
    std::deque<fake_response> queue;
    fake_response fallback = fake_response::sse({"data: [DONE]"});
    std::function<fake_response(const recorded_request&)> handler;
    std::vector<recorded_request> received;

    fake_response next(const recorded_request& req)
    {
        std::unique_lock lock(mutex);
        received.push_back(req);
        if (handler)
        {
            auto h = handler;
            lock.unlock();
            return h(req);
        }
        if (queue.empty())
            return fallback;
        auto r = std::move(queue.front());
        queue.pop_front();
        return r;
    }

    template <class Stream>
    asio::awaitable<void> respond(Stream& s, const fake_response& r, bool& keep_open)
    {
        keep_open = false;
        if (r.close_without_response)
            co_return;
        if (r.never_respond)
        {
            co_await sleep_forever();
            co_return;
        }
        co_await sleep_for(r.first_byte_delay);

        std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
        bool has_type = false;
        for (const auto& [k, v] : r.headers)
        {
            has_type = has_type || iequals(k, "content-type");
            head += k + ": " + v + "\r\n";
        }
        if (!has_type)
            head += "Content-Type: text/event-stream\r\n";
        if (r.chunked)
            head += "Transfer-Encoding: chunked\r\n";
        else
        {
            std::size_t total = 0;
            for (const auto& c : r.chunks)
                total += c.size();
            head += "Content-Length: " + std::to_string(total) + "\r\n";
        }
        if (!r.keep_alive)
            head += "Connection: close\r\n";
        head += "\r\n";
        if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(head), use_tuple); ec)
            co_return;

        for (const auto& c : r.chunks)
        {
            co_await sleep_for(r.chunk_delay);
            std::string piece = r.chunked ? hex(c.size()) + "\r\n" + c + "\r\n" : c;
            if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(piece), use_tuple); ec)
                co_return;
        }
        switch (r.end)
        {
        case fake_response::ending::complete:
            if (r.chunked)
            {
                if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(std::string("0\r\n\r\n")), use_tuple);
                    ec)
                    co_return;
            }
            keep_open = r.keep_alive;
            co_return;
        case fake_response::ending::close:
            co_return;
        case fake_response::ending::stall:
            co_await sleep_forever();
            co_return;
        }
    }

    template <class Stream>
    asio::awaitable<void> session(Stream s, std::size_t index)
    {
        if constexpr (!std::is_same_v<Stream, tcp::socket>)
        {
            auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::server, use_tuple);
            if (hec)
                co_return;  // a client that rejected our certificate
        }
        beast::flat_buffer buf;
        for (;;)
        {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            auto [rec, rn] = co_await http::async_read(s, buf, parser, use_tuple);
            if (rec)
                break;
            recorded_request req;
            auto& msg = parser.get();
            req.method = std::string(msg.method_string());
            req.target = std::string(msg.target());
            for (const auto& f : msg)
                req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            req.body = msg.body();
            req.connection = index;
            const fake_response r = next(req);
            bool keep_open = false;
            co_await respond(s, r, keep_open);
            if (!keep_open)
                break;
        }
        error_code ignored;
        lowest(s).shutdown(tcp::socket::shutdown_both, ignored);
        lowest(s).close(ignored);
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;)
        {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec)
                co_return;
            sock.set_option(tcp::no_delay(true));
            const std::size_t index = ++owner->accepted_;
            if (tls)
                asio::co_spawn(ioc, session(asio::ssl::stream<tcp::socket>(std::move(sock), *tls), index),
                               asio::detached);
            else
                asio::co_spawn(ioc, session(std::move(sock), index), asio::detached);
        }
    }
};

fake_llm_server::fake_llm_server(std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_shared<impl>()), tls_(tls != nullptr)
{
    impl_->tls = std::move(tls);
    impl_->owner = this;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    thread_ = std::thread([i = impl_] { i->ioc.run(); });
}

fake_llm_server::~fake_llm_server()
{
    stop();
}

void fake_llm_server::stop()
{
    if (!thread_.joinable())
        return;
    impl_->ioc.stop();
    thread_.join();
}

std::string fake_llm_server::base_url(const std::string& path) const
{
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

void fake_llm_server::enqueue(fake_response r)
{
    std::unique_lock lock(impl_->mutex);
    impl_->queue.push_back(std::move(r));
}

void fake_llm_server::set_default(fake_response r)
{
    std::unique_lock lock(impl_->mutex);
    impl_->fallback = std::move(r);
}

void fake_llm_server::set_handler(std::function<fake_response(const recorded_request&)> handler)
{
    std::unique_lock lock(impl_->mutex);
    impl_->handler = std::move(handler);
}

std::vector<recorded_request> fake_llm_server::requests() const
{
    std::unique_lock lock(impl_->mutex);
    return impl_->received;
}

// ---- test_pki ------------------------------------------------------------------------------

namespace {

struct pkey_deleter { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct x509_deleter { void operator()(X509* p) const { X509_free(p); } };
struct bio_deleter { void operator()(BIO* p) const { BIO_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(std::string("test_pki: ") + what + " failed");
}

pkey_ptr make_key()
{
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    check(key != nullptr, "EC key generation");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

x509_ptr make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, long serial)
{
    x509_ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    return cert;
}

std::string to_pem(X509* cert)
{
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key)
{
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

test_pki::test_pki(std::vector<std::string> dns_names, std::vector<std::string> ip_addresses)
{
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("ep-test-pki-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);

    auto ca_key = make_key();
    auto ca = make_cert(ca_key.get(), "EP Test CA", nullptr, 1);
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "signing the CA");

    auto key = make_key();
    auto cert = make_cert(key.get(), dns_names.empty() ? "server" : dns_names.front(), ca.get(), 2);
    std::string san;
    for (const auto& d : dns_names)
        san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    for (const auto& ip : ip_addresses)
        san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (!san.empty())
        add_ext(cert.get(), ca.get(), NID_subject_alt_name, san);
    check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "signing the server certificate");

    cert_pem_ = to_pem(cert.get());
    key_pem_ = to_pem(key.get());
    ca_file_ = (dir_ / "ca.pem").string();
    std::ofstream(ca_file_) << to_pem(ca.get());
}

test_pki::~test_pki()
{
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::shared_ptr<asio::ssl::context> test_pki::server_context() const
{
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain(asio::buffer(cert_pem_));
    ctx->use_private_key(asio::buffer(key_pem_), asio::ssl::context::pem);
    return ctx;
}

// ---- fake_connect_proxy --------------------------------------------------------------------

struct fake_connect_proxy::impl
{
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    bool refuse = false;
    mutable std::mutex mutex;
    std::vector<std::string> targets;
    std::vector<std::string> auths;

    using socket_pair = std::pair<tcp::socket, tcp::socket>;

    /// One direction of the tunnel; the pair is shared by both directions.
    static asio::awaitable<void> pump(std::shared_ptr<socket_pair> sockets, bool client_to_upstream)
    {
        tcp::socket& from = client_to_upstream ? sockets->first : sockets->second;
        tcp::socket& to = client_to_upstream ? sockets->second : sockets->first;
        std::array<char, 16 * 1024> buf;
        for (;;)
        {
            auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
            if (n > 0)
                if (auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple); wec)
                    break;
            if (rec)
                break;
        }
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
    }

    asio::awaitable<void> tunnel(tcp::socket client)
    {
        beast::flat_buffer buf;
        http::request_parser<http::empty_body> parser;
        auto [rec, rn] = co_await http::async_read_header(client, buf, parser, use_tuple);
        if (rec || parser.get().method() != http::verb::connect)
            co_return;
        const std::string target(parser.get().target());
        {
            std::unique_lock lock(mutex);
            targets.push_back(target);
            if (auto it = parser.get().find(http::field::proxy_authorization); it != parser.get().end())
                auths.emplace_back(it->value());
        }
        if (refuse)
        {
            std::string no = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
            co_await asio::async_write(client, asio::buffer(no), use_tuple);
            co_return;
        }
        const auto colon = target.rfind(':');
        tcp::resolver resolver(ioc);
        auto [dec, results] = co_await resolver.async_resolve(target.substr(0, colon), target.substr(colon + 1), use_tuple);
        tcp::socket upstream(ioc);
        if (!dec)
        {
            auto [cec, ep] = co_await asio::async_connect(upstream, results, use_tuple);
            dec = cec;
        }
        if (dec)
        {
            std::string bad = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
            co_await asio::async_write(client, asio::buffer(bad), use_tuple);
            co_return;
        }
        std::string ok = "HTTP/1.1 200 Connection Established\r\n\r\n";
        if (auto [wec, wn] = co_await asio::async_write(client, asio::buffer(ok), use_tuple); wec)
            co_return;
        if (buf.size() > 0)
            co_await asio::async_write(upstream, buf.data(), use_tuple);
        // Both directions at once, until either side closes.
        auto sockets = std::make_shared<socket_pair>(std::move(client), std::move(upstream));
        asio::co_spawn(ioc, pump(sockets, true), asio::detached);
        asio::co_spawn(ioc, pump(sockets, false), asio::detached);
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;)
        {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec)
                co_return;
            asio::co_spawn(ioc, tunnel(std::move(sock)), asio::detached);
        }
    }
};

fake_connect_proxy::fake_connect_proxy(bool refuse) : impl_(std::make_shared<impl>())
{
    impl_->refuse = refuse;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    thread_ = std::thread([i = impl_] { i->ioc.run(); });
}

fake_connect_proxy::~fake_connect_proxy()
{
    impl_->ioc.stop();
    thread_.join();
}

std::vector<std::string> fake_connect_proxy::targets() const
{
    std::unique_lock lock(impl_->mutex);
    return impl_->targets;
}

std::vector<std::string> fake_connect_proxy::authorizations() const
{
    std::unique_lock lock(impl_->mutex);
    return impl_->auths;
}

}  // namespace ep::test
