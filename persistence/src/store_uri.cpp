// Store URIs: which backend a --db / EP_DB value names, and the same text with its password
// hidden for messages.

#include <ep/persistence/open_store.hpp>

#include <algorithm>
#include <cctype>

namespace ep::persistence {

namespace {

constexpr std::string_view accepted_forms =
    "accepted: a file path (./runs.db), sqlite:PATH, sqlite://PATH, postgres://… or postgresql://… "
    "(a libpq URI)";

bool is_scheme_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// "scheme" of "scheme:rest" (RFC 3986 syntax, at least two characters so that a one-letter
// drive-like prefix stays a path); empty when `uri` has none.
std::string_view scheme_of(std::string_view uri)
{
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos || colon < 2 || std::isalpha(static_cast<unsigned char>(uri[0])) == 0)
        return {};
    const auto head = uri.substr(0, colon);
    return std::all_of(head.begin(), head.end(), is_scheme_char) ? head : std::string_view{};
}

// libpq's other connection-string form, "host=db user=ep password=…": not a URI and not a path.
bool is_keyword_value_string(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0)
        ++i;
    const auto word = i;
    while (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) != 0 || s[i] == '_'))
        ++i;
    if (i == word)
        return false;
    while (i < s.size() && s[i] == ' ')
        ++i;
    return i < s.size() && s[i] == '=';
}

store_error bad_uri(std::string what)
{
    return store_error(make_error_code(persistence_errc::invalid_argument), std::move(what));
}

// Replaces the user-info password of "scheme://user:password@host…".
void redact_user_info(std::string& s)
{
    const auto sep = s.find("://");
    if (sep == std::string::npos)
        return;
    const auto begin = sep + 3;
    auto end = s.find_first_of("/?#", begin);
    if (end == std::string::npos)
        end = s.size();
    const auto at = s.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < begin)
        return;
    const auto colon = s.find(':', begin);
    if (colon == std::string::npos || colon > at)
        return;
    s.replace(colon + 1, at - colon - 1, "***");
}

// The end of a `password=` value that starts at `i`: a URI query value ends at '&' or '#', a
// keyword/value one at white space, or at its closing quote if quoted ('…', with \' escapes).
std::size_t value_end(const std::string& s, std::size_t i, bool in_uri)
{
    if (!in_uri && i < s.size() && s[i] == '\'')
    {
        for (++i; i < s.size(); ++i)
        {
            if (s[i] == '\\')
                ++i;
            else if (s[i] == '\'')
                return i + 1;
        }
        return s.size();
    }
    while (i < s.size() &&
           (in_uri ? s[i] != '&' && s[i] != '#' : std::isspace(static_cast<unsigned char>(s[i])) == 0))
        ++i;
    return i;
}

// `s` with the value of every `password=` parameter (case-insensitive, at a parameter's
// start) replaced.
std::string redact_password_parameters(const std::string& s)
{
    const bool in_uri = s.find("://") != std::string::npos;
    const std::string folded = lower(s);
    std::string out;
    std::size_t copied = 0;  // s[0, copied) is in `out` already
    for (auto pos = folded.find("password"); pos != std::string::npos; pos = folded.find("password", pos + 8))
    {
        if (pos < copied)
            continue;
        const char before = pos == 0 ? ' ' : folded[pos - 1];
        const bool at_start =
            in_uri ? before == '?' || before == '&' : std::isspace(static_cast<unsigned char>(before)) != 0;
        auto i = pos + 8;
        while (i < folded.size() && folded[i] == ' ')
            ++i;
        if (!at_start || i >= folded.size() || folded[i] != '=')
            continue;
        ++i;
        while (!in_uri && i < folded.size() && folded[i] == ' ')
            ++i;
        out.append(s, copied, i - copied);
        out += "***";
        copied = value_end(s, i, in_uri);
    }
    out.append(s, copied);
    return out;
}

}  // namespace

std::string redact_store_uri(std::string_view uri)
{
    std::string out(uri);
    redact_user_info(out);
    return redact_password_parameters(out);
}

result<store_location> parse_store_uri(std::string_view uri)
{
    if (uri.empty())
        return bad_uri("the store URI is empty; " + std::string(accepted_forms));
    const auto scheme = lower(scheme_of(uri));
    if (scheme == "sqlite")
    {
        auto path = uri.substr(scheme.size() + 1);
        if (path.substr(0, 2) == "//")
            path.remove_prefix(2);
        if (path.empty())
            return bad_uri("the store URI '" + std::string(uri) + "' names no file; write sqlite:PATH");
        return store_location{store_location::backend_kind::sqlite, std::string(path)};
    }
    if (scheme == "postgres" || scheme == "postgresql")
    {
        if (uri.substr(scheme.size(), 3) != "://")
            return bad_uri("the store URI '" + redact_store_uri(uri) + "' is not a libpq URI; write " +
                           scheme + "://[user[:password]@][host][:port][/dbname][?param=value…]");
        return store_location{store_location::backend_kind::postgres, std::string(uri)};
    }
    if (!scheme.empty())
        return bad_uri("unknown store URI scheme '" + scheme + ":' in '" + redact_store_uri(uri) + "'; " +
                       std::string(accepted_forms) + ". For a file whose name has a ':', write ./" +
                       redact_store_uri(uri));
    if (is_keyword_value_string(uri))
        return bad_uri("the store '" + redact_store_uri(uri) +
                       "' looks like a libpq keyword=value string; write it as a postgresql:// URI "
                       "(or ./NAME for a file of that name)");
    return store_location{store_location::backend_kind::sqlite, std::string(uri)};
}

}  // namespace ep::persistence
