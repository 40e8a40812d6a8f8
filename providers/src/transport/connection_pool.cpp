// The keep-alive pool: idle connections per (scheme, host, port).

#include "transport/connection.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace ep::providers {

namespace transport {

bool connection::usable_when_idle()
{
    auto& sock = lowest().socket();
    if (!sock.is_open())
        return false;
    // A server that closed an idle keep-alive connection has sent a FIN we have not read yet;
    // peek without blocking so such a connection is dropped here rather than failing the
    // request written on it. (A race remains; http_exchange retries once on a fresh one.)
    char c;
    const auto n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return false;  // FIN
    if (n > 0)
        return false;  // unexpected bytes between responses: the framing is lost
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace transport

std::unique_ptr<transport::connection> connection_pool::impl::take(const std::string& key)
{
    std::unique_lock lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end())
        return nullptr;
    while (!it->second.empty())
    {
        auto c = std::move(it->second.back());  // the most recently used is the most likely alive
        it->second.pop_back();
        if (c->usable_when_idle())
            return c;
        c->close();
    }
    return nullptr;
}

void connection_pool::impl::give(std::unique_ptr<transport::connection> c)
{
    std::unique_lock lock(mutex);
    auto& list = idle[c->key];
    if (list.size() >= max_idle_per_host)
    {
        c->close();
        return;
    }
    list.push_back(std::move(c));
}

connection_pool::connection_pool(std::size_t max_idle_per_host)
    : impl_(std::make_unique<impl>())
{
    impl_->max_idle_per_host = max_idle_per_host;
}

connection_pool::~connection_pool()
{
    clear();
}

std::uint64_t connection_pool::connections_opened() const noexcept
{
    return impl_->opened.load();
}

std::size_t connection_pool::idle_count() const
{
    std::unique_lock lock(impl_->mutex);
    std::size_t n = 0;
    for (const auto& [key, list] : impl_->idle)
        n += list.size();
    return n;
}

void connection_pool::clear()
{
    std::unique_lock lock(impl_->mutex);
    for (auto& [key, list] : impl_->idle)
        for (auto& c : list)
            c->close();
    impl_->idle.clear();
}

}  // namespace ep::providers
