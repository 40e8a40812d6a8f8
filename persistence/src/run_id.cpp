#include <ep/persistence/run_id.hpp>

#include <openssl/evp.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <random>
#include <signal.h>
#include <unistd.h>

namespace ep::persistence {

namespace {

std::string host_name()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
        return "localhost";
    return buf;
}

}  // namespace

std::string new_run_id(timestamp at)
{
    const std::time_t secs = std::chrono::system_clock::to_time_t(at);
    std::tm utc{};
    ::gmtime_r(&secs, &utc);
    // Not for security: only to keep ids created in the same second apart.
    thread_local std::mt19937 rng{std::random_device{}()};
    const auto suffix = static_cast<unsigned>(rng());
    char buf[64];  // room for any int the compiler thinks tm fields may hold
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%08x", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, suffix);
    return buf;
}

std::string definition_hash(std::string_view text)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        return {};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i)
    {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::string default_owner()
{
    return host_name() + ":" + std::to_string(::getpid());
}

bool owner_is_dead_local_process(std::string_view owner)
{
    const auto colon = owner.rfind(':');
    if (colon == std::string_view::npos || owner.substr(0, colon) != host_name())
        return false;
    const auto digits = owner.substr(colon + 1);
    long pid = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc{} || end != digits.data() + digits.size() || pid <= 0)
        return false;
    // Signal 0 probes existence only. EPERM means it exists but belongs to someone else.
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace ep::persistence
